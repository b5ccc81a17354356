/**
 * Security headers for every response of the web process, computed from the runtime settings (the
 * sign-in authority is known only at run time, so a build-time header could not allow it).
 * The authority origin is in connect-src because MSAL calls its token endpoint from the browser.
 */
export function securityHeaders(options: {
  authority?: string;
  isDev: boolean;
  isHttps: boolean;
  /** Per-response nonce: only scripts carrying it run (Next.js adds it to its own inline scripts). */
  nonce?: string;
}): Record<string, string> {
  let authorityOrigin = "";
  try {
    authorityOrigin = options.authority ? new URL(options.authority).origin : "";
  } catch {
    authorityOrigin = "";
  }
  const csp = [
    "default-src 'self'",
    // With a nonce, 'strict-dynamic' lets the nonce-carrying bootstrap load the bundles it needs and
    // nothing else; 'unsafe-inline' is then ignored by browsers (kept only for the nonce-less fallback).
    options.nonce
      ? `script-src 'nonce-${options.nonce}' 'strict-dynamic'${options.isDev ? " 'unsafe-eval'" : ""}`
      : `script-src 'self' 'unsafe-inline'${options.isDev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${authorityOrigin}${options.isDev ? " ws:" : ""}`.trim(),
    // MSAL's silent renewal loads the authority in a hidden iframe.
    `frame-src 'self' ${authorityOrigin}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'self'",
    `form-action 'self' ${authorityOrigin}`.trim(),
    "object-src 'none'",
  ].join("; ");
  return {
    "Content-Security-Policy": csp,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    ...(options.isHttps ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}
