// HTML of the sandbox sign-in pages. Plain server-rendered forms: they must work without JavaScript and
// be usable with a keyboard and a screen reader, because e2e tests drive them by label and role.

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827;margin:0}
  main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}
  h1{font-size:1.5rem;margin:0 0 .5rem} label{display:block;font-weight:600;margin:1rem 0 .25rem}
  input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #6b7280;border-radius:.25rem}
  button{margin-top:1.25rem;padding:.6rem 1.2rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:.25rem;cursor:pointer}
  button:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
  .error{background:#fef2f2;color:#991b1b;border:1px solid #fca5a5;padding:.5rem .75rem;border-radius:.25rem}
  .hint{margin-top:2rem;font-size:.9rem;color:#374151} .hint code{background:#f3f4f6;padding:0 .2rem}
  .tenant{font-size:.85rem;color:#4b5563}`;

function layout(title: string, body: string, script = ""): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
${script}
</body>
</html>`;
}

export interface LoginPageInput {
  action: string;
  tenantId: string;
  clientName: string;
  username?: string;
  error?: string;
  accounts: { username: string; password: string; description: string }[];
}

export function loginPage(input: LoginPageInput): string {
  const error = input.error
    ? `<p class="error" role="alert" id="signin-error">${escapeHtml(input.error)}</p>`
    : "";
  const describedBy = input.error ? ' aria-describedby="signin-error" aria-invalid="true"' : "";
  const accounts = input.accounts
    .map(
      (a) =>
        `<li><code>${escapeHtml(a.username)}</code> / <code>${escapeHtml(a.password)}</code> — ${escapeHtml(a.description)}</li>`,
    )
    .join("\n");
  return layout(
    "Sign in – sandbox identity provider",
    `<h1>Sign in</h1>
<p>to continue to ${escapeHtml(input.clientName)}</p>
<p class="tenant">Sandbox tenant <code>${escapeHtml(input.tenantId)}</code></p>
${error}
<form method="post" action="${escapeHtml(input.action)}" autocomplete="on">
  <label for="username">Username</label>
  <input id="username" name="username" type="email" autocomplete="username" required autofocus value="${escapeHtml(input.username ?? "")}"${describedBy}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}>
  <button type="submit">Sign in</button>
</form>
<section class="hint" aria-labelledby="sandbox-accounts">
  <h2 id="sandbox-accounts" style="font-size:1rem">Sandbox accounts</h2>
  <ul>
${accounts}
  </ul>
</section>`,
  );
}

export function messagePage(title: string, message: string, next?: { href: string; label: string }): string {
  const link = next ? `\n<p><a href="${escapeHtml(next.href)}">${escapeHtml(next.label)}</a></p>` : "";
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>${link}`);
}

/**
 * Entra signs a single account out without asking; the page submits oidc-provider's confirmation form
 * itself and keeps a visible button for browsers without JavaScript.
 */
export function logoutPage(providerForm: string): string {
  return layout(
    "Sign out – sandbox identity provider",
    `<h1>Sign out</h1>
<p>Signing you out of the sandbox tenant…</p>
${providerForm}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`,
    `<script>
(function () {
  var form = document.getElementById("op.logoutForm");
  var all = document.createElement("input");
  all.type = "hidden"; all.name = "logout"; all.value = "yes";
  form.appendChild(all);
  form.submit();
})();
</script>`,
  );
}
