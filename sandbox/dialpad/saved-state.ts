import fs from "node:fs";
import { z } from "zod";
import { openStateFile, type StateFile } from "../shared/state-file";
import type { CompanyState, DialpadCompany } from "./company";
import type { JsonObject } from "./json";
import { LICENSE_TYPES } from "./schemas";

/** Bump when CompanyState changes shape; older files are then set aside rather than misread. */
export const DIALPAD_STATE_VERSION = 1;

const isoDate = z.iso.datetime({ offset: true });
const counter = z.number().int().min(0);

const ZCompanyState = z.object({
  offices: z.array(z.string()),
  userSeq: counter,
  groupSeq: counter,
  numbersUsed: z.record(z.string(), counter),
  users: z.array(
    z.object({
      id: z.string().min(1),
      // Came from JSON.parse, so it is JSON; checking every nested value would only slow the start.
      attributes: z.record(z.string(), z.unknown()),
      officeId: z.string().min(1),
      licenseType: z.enum(LICENSE_TYPES),
      dialpadNumber: z.string().optional(),
      created: isoDate,
      lastModified: isoDate,
      version: counter,
    }),
  ),
  groups: z.array(
    z.object({
      id: z.string().min(1),
      displayName: z.string().min(1),
      externalId: z.string().optional(),
      members: z.array(z.string()),
      created: isoDate,
      lastModified: isoDate,
      version: counter,
    }),
  ),
});

function parseCompanyState(raw: unknown): CompanyState {
  const parsed = ZCompanyState.parse(raw);
  return {
    ...parsed,
    users: parsed.users.map(({ dialpadNumber, attributes, ...user }) => ({
      ...user,
      attributes: attributes as JsonObject,
      ...(dialpadNumber !== undefined ? { dialpadNumber } : {}),
    })),
    groups: parsed.groups.map(({ externalId, ...group }) => ({
      ...group,
      ...(externalId !== undefined ? { externalId } : {}),
    })),
  };
}

/**
 * Keeps `company` in `file`: loads what was saved (when it fits the company's offices) and saves
 * every later change. Returns the file so the caller can flush it when shutting down.
 */
export function persistCompany(
  company: DialpadCompany,
  file: string,
  options: { debounceMs?: number; warn?: (message: string) => void } = {},
): StateFile<CompanyState> {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const stateFile = openStateFile<CompanyState>({
    file,
    version: DIALPAD_STATE_VERSION,
    parse: parseCompanyState,
    warn,
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
  });
  const saved = stateFile.load();
  if (saved) {
    try {
      company.importState(saved);
    } catch (error) {
      // Kept aside rather than overwritten by the next change, so nothing is lost.
      const aside = `${file}.unfit-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      fs.renameSync(file, aside);
      warn(
        `The saved Dialpad company in ${file} does not fit this emulator (${error instanceof Error ? error.message : String(error)}); it was moved to ${aside} and the company starts empty.`,
      );
    }
  }
  company.onChange(() => stateFile.schedule(() => company.exportState()));
  return stateFile;
}
