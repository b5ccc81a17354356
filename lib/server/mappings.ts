import { defaultDialpadMapping, ZMappingConfig, type TMappingConfig } from "../mapping";

/** The connection's stored mapping configuration, or Dialpad's default when none was saved. */
export function loadMappingConfig(
  stored: unknown,
): TMappingConfig & { actions: { User: Actions; Group: Actions } } {
  const config = stored ? ZMappingConfig.parse(stored) : defaultDialpadMapping();
  return { ...config, actions: { User: config.users.actions, Group: config.groups.actions } };
}

type Actions = { create: boolean; update: boolean; delete: boolean };
