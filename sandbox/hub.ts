import type { CapturedMail } from "./mail/server";
import type { SandboxRuntime } from "./main";
import type { CapturedWebhook } from "./webhooks/catcher";

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
  webhooks: CapturedWebhook[] = [],
  handChanges: readonly string[] = [],
): string {
  const changed = handChanges.map((change) => `<li>${escapeHtml(change)}</li>`).join("");
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
article{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:.75rem 0}.meta{color:#555;font-size:13px}pre{white-space:pre-wrap}</style></head><body>
<h1>Provisioning sandbox</h1>
<p>Emulators of Entra ID sign-in, Microsoft Graph and Dialpad SCIM, running on this machine only.</p>
<ul>
<li>Dialpad company (what was provisioned): <a href="${escapeHtml(runtime.dialpad.url)}/">${escapeHtml(runtime.dialpad.url)}</a></li>
<li>Dialpad tenant URL: <code>${escapeHtml(runtime.dialpad.tenantUrl)}</code>, secret token: <code>${escapeHtml(runtime.dialpad.apiKey)}</code></li>
<li>Microsoft Graph: <code>${escapeHtml(runtime.graph.baseUrl)}</code> (directory summary: <a href="${escapeHtml(runtime.graph.url)}/_sandbox/directory">/_sandbox/directory</a>)</li>
<li>Sign-in authority: <code>${escapeHtml(runtime.identity.authority)}</code></li>
</ul>
<h2>Dialpad changed by hand</h2>
<p>Do what a Dialpad admin does behind Entra's back: create users in Dialpad (orphans), change a provisioned user's title and suspend another (drift). The console's Reconcile tab reports them. Start with <code>SANDBOX_DIALPAD_BY_HAND=1</code> to have the hand-made users from the start.</p>
<form method="post" action="/dialpad/by-hand"><button type="submit">Change Dialpad by hand</button></form>
${changed ? `<ul>${changed}</ul>` : ""}
<h2>Sign-in accounts</h2><ul>${accounts}</ul>
<p>The services use a self-signed certificate (<code>${escapeHtml(runtime.certPath)}</code>); your browser asks once per address.</p>
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
