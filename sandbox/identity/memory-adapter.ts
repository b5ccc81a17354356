import type { Adapter, AdapterPayload } from "oidc-provider";

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

/** Models whose records die with their grant (logout, refresh-token reuse detection). */
const GRANTABLE = new Set([
  "AccessToken",
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
]);

/**
 * Process-local storage for oidc-provider. It outlives any one Provider instance, so rebuilding the
 * provider to rotate its signing key keeps sessions, grants and refresh tokens. Passing our own adapter
 * also keeps oidc-provider from printing its "development-only adapter" warning.
 */
export class SandboxStore {
  readonly #entries = new Map<string, Entry>();
  readonly #sessionsByUid = new Map<string, string>();
  readonly #byUserCode = new Map<string, string>();
  readonly #grantMembers = new Map<string, Set<string>>();

  adapterFor = (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`;
    const find = async (id: string | undefined): Promise<AdapterPayload | undefined> =>
      id === undefined ? undefined : this.#get(key(id));
    return {
      upsert: async (id, payload, expiresIn) => {
        const expiresAt =
          Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 : Infinity;
        this.#entries.set(key(id), { payload, expiresAt });
        if (model === "Session" && payload.uid) this.#sessionsByUid.set(payload.uid, id);
        if (payload.userCode) this.#byUserCode.set(payload.userCode, id);
        if (GRANTABLE.has(model) && payload.grantId) {
          const members = this.#grantMembers.get(payload.grantId) ?? new Set<string>();
          members.add(key(id));
          this.#grantMembers.set(payload.grantId, members);
        }
      },
      find,
      findByUid: async (uid) => find(this.#sessionsByUid.get(uid)),
      findByUserCode: async (userCode) => find(this.#byUserCode.get(userCode)),
      consume: async (id) => {
        const entry = this.#get(key(id));
        if (entry) entry.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => {
        this.#entries.delete(key(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const member of this.#grantMembers.get(grantId) ?? []) this.#entries.delete(member);
        this.#grantMembers.delete(grantId);
      },
    };
  };

  #get(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }
}
