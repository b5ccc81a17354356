import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";

export const GET = apiRoute(API.me, async ({ principal }) => ({
  objectId: principal.objectId,
  upn: principal.upn,
  name: principal.name,
  roles: principal.roles,
  canWrite: principal.roles.includes("Provisioning.Admin"),
}));
