import type { DialpadCompany, DialpadUser } from "./company";
import { getCI } from "./json";

const USERS_PER_PAGE = 500;
const GROUPS_SHOWN = 500;
const MEMBERS_SHOWN = 100;

/** Every value on the page comes from SCIM clients, so every value is escaped (attribute-safe too). */
export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

export function userLabel(user: DialpadUser): string {
  const a = user.attributes;
  const display = getCI(a, "displayName");
  if (typeof display === "string" && display !== "") return display;
  const name = getCI(a, "name");
  const formatted = getCI(name, "formatted");
  if (typeof formatted === "string" && formatted !== "") return formatted;
  const parts = [getCI(name, "givenName"), getCI(name, "familyName")].filter(
    (p) => typeof p === "string" && p !== "",
  );
  return parts.length > 0 ? parts.join(" ") : String(a.userName ?? user.id);
}

/** A read-only page for a newcomer to see what provisioning did. */
export function renderCompanyPage(company: DialpadCompany, pageNumber: number): string {
  const summary = company.summary();
  const users = [...company.users.values()];
  const pages = Math.max(1, Math.ceil(users.length / USERS_PER_PAGE));
  const current = Math.min(Math.max(1, pageNumber), pages);
  const shown = users.slice((current - 1) * USERS_PER_PAGE, current * USERS_PER_PAGE);

  const userRows = shown
    .map((u) => {
      const office = company.office(u.officeId);
      const active = company.isActive(u);
      return `<tr><td>${escapeHtml(userLabel(u))}</td><td>${escapeHtml(u.attributes.userName)}</td><td>${escapeHtml(
        office.name,
      )}</td><td>${escapeHtml(u.dialpadNumber ?? "—")}</td><td>${escapeHtml(u.licenseType)}</td><td class="${
        active ? "ok" : "off"
      }">${active ? "active" : "suspended"}</td></tr>`;
    })
    .join("\n");

  const groups = [...company.groups.values()].slice(0, GROUPS_SHOWN);
  const groupItems = groups
    .map((g) => {
      const ids = [...g.members];
      const names = ids.slice(0, MEMBERS_SHOWN).map((id) => {
        const user = company.users.get(id);
        return escapeHtml(user ? userLabel(user) : id);
      });
      const more = ids.length > MEMBERS_SHOWN ? ` and ${ids.length - MEMBERS_SHOWN} more` : "";
      return `<li><strong>${escapeHtml(g.displayName)}</strong> (${ids.length} member${ids.length === 1 ? "" : "s"})${
        names.length > 0 ? `: ${names.join(", ")}${more}` : ""
      }</li>`;
    })
    .join("\n");

  const officeItems = summary.offices
    .map(
      (o) =>
        `<li>${escapeHtml(o.name)}${o.main ? " (main office)" : ""}: ${o.users} user${o.users === 1 ? "" : "s"}</li>`,
    )
    .join("\n");

  const nav =
    pages > 1
      ? `<p>Page ${current} of ${pages}. ${current > 1 ? `<a href="?page=${current - 1}">Previous</a>` : ""} ${
          current < pages ? `<a href="?page=${current + 1}">Next</a>` : ""
        }</p>`
      : "";

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dialpad sandbox</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1d1f}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
.ok{color:#05660b}.off{color:#9a3412}
</style></head><body>
<h1>Dialpad sandbox company</h1>
<p>What SCIM provisioning created here (tenant URL <code>/scim</code>). ${summary.users} users (${summary.activeUsers} active, ${
    summary.suspendedUsers
  } suspended), ${summary.groups} groups, ${summary.seats.used} seats in use.</p>
<h2>Offices</h2><ul>${officeItems}</ul>
<h2>Users</h2>${nav}
<table><thead><tr><th>Name</th><th>userName</th><th>Office</th><th>Dialpad number</th><th>Licence</th><th>Status</th></tr></thead>
<tbody>
${userRows || '<tr><td colspan="6">No users yet.</td></tr>'}
</tbody></table>
<h2>Groups</h2>${groups.length > 0 ? `<ul>${groupItems}</ul>` : "<p>No groups yet.</p>"}
</body></html>`;
}
