/** Every TanStack Query key in one typed factory, so invalidation after a mutation cannot miss one. */
export const queryKeys = {
  me: ["me"] as const,
  connections: {
    all: ["connections"] as const,
    list: () => [...queryKeys.connections.all, "list"] as const,
    detail: (id: string) => [...queryKeys.connections.all, id] as const,
    logs: (id: string, filters: Record<string, string | undefined>) =>
      [...queryKeys.connections.all, id, "logs", filters] as const,
    /** Directory reads for pickers: users, groups, or one group's members, by search text. */
    directory: (id: string, collection: string, search: string) =>
      [...queryKeys.connections.all, id, "directory", collection, search] as const,
    mappings: (id: string) => [...queryKeys.connections.all, id, "mappings"] as const,
    mappingPreview: (id: string, expression: string, objectId: string | null) =>
      [...queryKeys.connections.all, id, "mapping-preview", { expression, objectId }] as const,
    audit: (id: string) => [...queryKeys.connections.all, id, "audit"] as const,
    /** Every log page and filter combination of one connection (prefix for invalidation). */
    logsAll: (id: string) => [...queryKeys.connections.all, id, "logs"] as const,
    status: (id: string) => [...queryKeys.connections.all, id, "status"] as const,
    /** The latest preview, one page of its operations. */
    preview: (id: string, kind: string, offset: number) =>
      [...queryKeys.connections.all, id, "preview", { kind, offset }] as const,
    previewAll: (id: string) => [...queryKeys.connections.all, id, "preview"] as const,
    /** The latest reconcile report and its findings (prefix for invalidation). */
    reconcileAll: (id: string) => [...queryKeys.connections.all, id, "reconcile"] as const,
    reconcile: (id: string) => [...queryKeys.connections.all, id, "reconcile", "run"] as const,
    reconcileFindings: (id: string, filters: Record<string, string | undefined>) =>
      [...queryKeys.connections.all, id, "reconcile", "findings", filters] as const,
  },
};
