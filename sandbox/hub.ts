import { randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { changeDialpadByHand } from "./dialpad/by-hand";
import type { RunningDialpadEmulator } from "./dialpad/server";
import type { RunningGraphEmulator } from "./graph/server";
import { changeEntraUser, ENTRA_CHANGES, entraUserChoices } from "./hub-entra";
import { directoryView, type DirectoryView } from "./hub-directory";
import type { CapturedMail, RunningMailCatcher } from "./mail/server";
import type { SandboxRuntime } from "./main";
import { BodyTooLargeError, readBody } from "./shared/http-server";
import type { CapturedWebhook, WebhookCatcher } from "./webhooks/catcher";

export interface HubServices {
  runtime: SandboxRuntime;
  graph: RunningGraphEmulator;
  dialpad: RunningDialpadEmulator;
  mail: RunningMailCatcher;
  webhooks: WebhookCatcher;
}

export interface RunningHub {
  port: number;
  close(): Promise<void>;
}

const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
};

/**
 * The hub is plain HTTP on loopback: it links the services, shows the emulated directory, captured mail
 * and webhooks, and resets the emulators. Any web page the admin visits could post a form to it, so
 * the reset form carries a token only this process knows.
 */
export async function startHub(services: HubServices, port: number): Promise<RunningHub> {
  const { runtime, graph, dialpad, mail, webhooks } = services;
  const resetToken = randomBytes(24).toString("base64url");
  const handChanges: string[] = [];
  const entraChanges: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/webhook" && req.method === "POST") {
      webhooks.handle(req, res);
      return;
    }
    if (url.pathname === "/reset" && req.method === "POST") {
      void handleReset(req, res);
      return;
    }
    if (url.pathname === "/dialpad/by-hand" && req.method === "POST") {
      void handleByHand(req, res);
      return;
    }
    if (url.pathname === "/entra/change" && req.method === "POST") {
      void handleEntraChange(req, res);
      return;
    }
    if (url.pathname === "/webhooks.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(webhooks.events));
      return;
    }
    if (url.pathname === "/mail.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(mail.messages.map(({ raw: _raw, ...rest }) => rest)));
      return;
    }
    res.writeHead(200, HTML_HEADERS);
    res.end(
      renderHub(runtime, mail.messages, webhooks.events, {
        directory: directoryView(graph.directory, dialpad.company),
        resetToken,
        justReset: url.searchParams.get("reset") === "done",
        handChanges,
        entraChanges,
        entraUsers: entraUserChoices(graph.directory),
      }),
    );
  });

  /** What an Entra admin does to a user; a continuous connection carries it to Dialpad within seconds. */
  async function handleEntraChange(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const form = await readHubForm(req, res);
    if (!form) return;
    try {
      entraChanges.push(changeEntraUser(graph.directory, form.get("user") ?? "", form.get("change") ?? ""));
    } catch (error) {
      entraChanges.push(`Not changed: ${error instanceof Error ? error.message : String(error)}`);
    }
    res.writeHead(303, { location: "/#entra" });
    res.end();
  }

  /** The hub's own forms carry its token: another page's form posted here gets a 403. */
  async function readHubForm(
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<URLSearchParams | null> {
    let form: URLSearchParams;
    try {
      form = new URLSearchParams(await readBody(req, 10_000));
    } catch (error) {
      res.writeHead(error instanceof BodyTooLargeError ? 413 : 400, { "content-type": "text/plain" });
      res.end("The form could not be read.");
      return null;
    }
    if (!sameToken(form.get("token") ?? "", resetToken)) {
      res.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
      res.end("This request did not come from the hub page; open the hub and use its button.");
      return null;
    }
    return form;
  }

  /** What a Dialpad admin does in Dialpad's own portal, so the reconcile report has orphans and drift. */
  async function handleByHand(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!(await readHubForm(req, res))) return;
    handChanges.push(...changeDialpadByHand(dialpad.company));
    res.writeHead(303, { location: "/#by-hand" });
    res.end();
  }

  async function handleReset(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const form = await readHubForm(req, res);
    if (!form) return;
    if (form.get("confirm") !== "yes") {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      res.end("Tick the confirmation box to reset the sandbox.");
      return;
    }
    graph.resetToSeed();
    dialpad.company.reset();
    res.writeHead(303, { location: "/?reset=done#reset" });
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface HubPageState {
  directory: DirectoryView;
  resetToken: string;
  justReset: boolean;
  /** What "Change Dialpad by hand" did so far. */
  handChanges: readonly string[];
  /** What "Change Entra ID" did so far, and the users it offers. */
  entraChanges: readonly string[];
  entraUsers: readonly { id: string; label: string }[];
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/** The sandbox's front page: where each emulator is, the sign-in accounts, and the captured e-mails. */
export function renderHub(
  runtime: SandboxRuntime,
  messages: CapturedMail[],
  webhooks: CapturedWebhook[],
  state: HubPageState,
): string {
  const hooks = [...webhooks]
    .reverse()
    .map(
      (hook) =>
        `<article><h3>${escapeHtml(hook.type ?? "(no type)")} — signature ${escapeHtml(hook.signature)}</h3><p class="meta">${escapeHtml(
          hook.receivedAt,
        )} — Webhook-Id ${escapeHtml(hook.eventId ?? "(none)")}</p><pre>${escapeHtml(prettyJson(hook.body))}</pre></article>`,
    )
    .join("");
  const rows = [...messages]
    .reverse()
    .map(
      (mail) =>
        `<article><h3>${escapeHtml(mail.subject)}</h3><p class="meta">${escapeHtml(mail.receivedAt)} — from ${escapeHtml(
          mail.from,
        )} to ${escapeHtml(mail.to.join(", "))}</p><pre>${escapeHtml(mail.text)}</pre></article>`,
    )
    .join("");
  const accounts = runtime.accounts
    .map(
      (a) =>
        `<li><code>${escapeHtml(a.username)}</code> / <code>${escapeHtml(a.password)}</code> — ${escapeHtml(a.roles.join(", ") || "no role")}</li>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Provisioning sandbox</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}code{background:#f3f4f6;padding:0 .25rem}
article{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:.75rem 0}.meta{color:#555;font-size:13px}pre{white-space:pre-wrap}
table{border-collapse:collapse;margin:.5rem 0}th,td{border-bottom:1px solid #e5e7eb;padding:.25rem .75rem .25rem 0;text-align:left}
.notice{border:1px solid #16a34a;background:#f0fdf4;border-radius:6px;padding:.5rem 1rem}</style></head><body>
<h1>Provisioning sandbox</h1>
<p>Emulators of Entra ID sign-in, Microsoft Graph and Dialpad SCIM, running on this machine only.</p>
<ul>
<li>Dialpad company (what was provisioned): <a href="${escapeHtml(runtime.dialpad.url)}/">${escapeHtml(runtime.dialpad.url)}</a></li>
<li>Dialpad tenant URL: <code>${escapeHtml(runtime.dialpad.tenantUrl)}</code>, secret token: <code>${escapeHtml(runtime.dialpad.apiKey)}</code></li>
<li>Microsoft Graph: <code>${escapeHtml(runtime.graph.baseUrl)}</code> (as JSON: <a href="${escapeHtml(runtime.graph.url)}/_sandbox/directory">/_sandbox/directory</a>)</li>
<li>Sign-in authority: <code>${escapeHtml(runtime.identity.authority)}</code></li>
</ul>
<h2>Sign-in accounts</h2><ul>${accounts}</ul>
<p>The services use a self-signed certificate (<code>${escapeHtml(runtime.certPath)}</code>); your browser asks once per address.</p>
${renderDirectory(state.directory)}
${renderEntraChange(state)}
${renderByHand(state)}
${renderReset(state)}
<h2>Notification e-mails (${messages.length})</h2>${rows || "<p>None yet.</p>"}
<h2>Webhook events (${webhooks.length})</h2>
<p>Webhook URL: <code>${escapeHtml(runtime.webhook.url)}</code>, signing secret: <code>${escapeHtml(runtime.webhook.secret)}</code>. Each request's signature is checked as docs/operations.md describes (<a href="/webhooks.json">/webhooks.json</a>).</p>
${hooks || "<p>None yet.</p>"}
</body></html>`;
}

function prettyJson(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

const yesNo = (value: boolean): string => (value ? "yes" : "no");

function renderDirectory(view: DirectoryView): string {
  const { entra, dialpad } = view;
  const assigned = view.assigned
    .map(
      (a) =>
        `<tr><td>${a.type}</td><td>${escapeHtml(a.name)}</td><td>${escapeHtml(a.detail)}</td><td>${escapeHtml(a.role)}</td><td>${yesNo(a.inDialpad)}</td></tr>`,
    )
    .join("");
  const groups = view.groups
    .map(
      (g) =>
        `<tr><td>${escapeHtml(g.name)}</td><td>${g.members}</td><td>${yesNo(g.assigned)}</td><td>${yesNo(g.inDialpad)}</td></tr>`,
    )
    .join("");
  return `<h2>Directory</h2>
<table aria-label="Counts"><thead><tr><th></th><th>Users</th><th>Groups</th><th>Other</th></tr></thead><tbody>
<tr><th scope="row">Entra ID (emulated)</th><td>${entra.users}</td><td>${entra.groups}</td><td>${entra.disabledUsers} disabled, ${entra.deletedUsers} deleted, ${entra.assignments} assigned to Dialpad</td></tr>
<tr><th scope="row">Dialpad (emulated)</th><td>${dialpad.users}</td><td>${dialpad.groups}</td><td>${dialpad.suspendedUsers} suspended</td></tr>
</tbody></table>
<h3>Assigned to the Dialpad app (${view.assigned.length})</h3>
${
  assigned
    ? `<table aria-label="Assigned to the Dialpad app"><thead><tr><th>Type</th><th>Name</th><th>User name / members</th><th>Role</th><th>In Dialpad</th></tr></thead><tbody>${assigned}</tbody></table>`
    : "<p>Nobody is assigned.</p>"
}
<h3>Groups (${view.groups.length})</h3>
${
  groups
    ? `<table aria-label="Groups"><thead><tr><th>Name</th><th>Members</th><th>Assigned</th><th>In Dialpad</th></tr></thead><tbody>${groups}</tbody></table>`
    : "<p>No groups.</p>"
}`;
}

function renderEntraChange(state: HubPageState): string {
  const users = state.entraUsers
    .map((user) => `<option value="${escapeHtml(user.id)}">${escapeHtml(user.label)}</option>`)
    .join("");
  const changes = Object.entries(ENTRA_CHANGES)
    .map(([value, label]) => `<option value="${value}">${escapeHtml(label)}</option>`)
    .join("");
  const done = state.entraChanges.map((change) => `<li>${escapeHtml(change)}</li>`).join("");
  return `<h2 id="entra">Change Entra ID</h2>
<p>Do what an Entra admin does. A connection in continuous mode (the default) picks the change up within seconds
and Dialpad follows; the console's overview shows when it was seen and how long it took. A connection on
Entra's interval waits for its next cycle.</p>
<form method="post" action="/entra/change"><input type="hidden" name="token" value="${escapeHtml(state.resetToken)}">
<label>User <select name="user" required>${users}</select></label>
<label>Change <select name="change" required>${changes}</select></label>
<button type="submit">Change in Entra ID</button></form>
${done ? `<ul>${done}</ul>` : ""}`;
}

function renderByHand(state: HubPageState): string {
  const changed = state.handChanges.map((change) => `<li>${escapeHtml(change)}</li>`).join("");
  return `<h2 id="by-hand">Dialpad changed by hand</h2>
<p>Do what a Dialpad admin does behind Entra's back: create users in Dialpad (orphans), change a provisioned
user's title and suspend another (drift). The console's Reconcile tab reports them. Start with
<code>SANDBOX_DIALPAD_BY_HAND=1</code> to have the hand-made users from the start.</p>
<form method="post" action="/dialpad/by-hand"><input type="hidden" name="token" value="${escapeHtml(state.resetToken)}">
<button type="submit">Change Dialpad by hand</button></form>
${changed ? `<ul>${changed}</ul>` : ""}`;
}

/** Resetting the emulators does not touch the console, which still remembers what it linked. */
const CONSOLE_STEPS = `In the console, open the sandbox connection's Overview, choose <strong>Restart</strong>, tick
<strong>Forget the links and match every object again</strong> and confirm <strong>Restart provisioning</strong>.
Without it the console still believes the users it created are in Dialpad.`;

function renderReset(state: HubPageState): string {
  const done = state.justReset
    ? `<p class="notice" role="status">The sandbox was reset: the emulated Entra ID is back to its seed and the
emulated Dialpad company is empty. Now restart provisioning in the console as described below.</p>`
    : "";
  return `<h2 id="reset">Reset sandbox</h2>${done}
<p>Puts the emulated Entra ID back to its seed and empties the emulated Dialpad company (its users and groups are
kept in the data directory across restarts until you do). ${CONSOLE_STEPS}</p>
<form method="post" action="/reset"><input type="hidden" name="token" value="${escapeHtml(state.resetToken)}">
<label><input type="checkbox" name="confirm" value="yes" required> I understand every Dialpad user and group in the sandbox is deleted</label>
<button type="submit">Reset sandbox</button></form>`;
}
