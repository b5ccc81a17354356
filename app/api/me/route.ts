import { apiRoute } from "@/lib/server/http";

export const GET = apiRoute({ access: "read" }, async ({ principal }) => ({
  objectId: principal.objectId,
  upn: principal.upn,
  name: principal.name,
  roles: principal.roles,
  canWrite: principal.roles.includes("Provisioning.Admin"),
}));
