const MAX_UPSTREAM_TEXT = 300;
// Shorter secrets would match ordinary text; rather than redact every "abc", drop the text.
const MIN_REDACTABLE = 6;

/**
 * Whether text may carry one of the credential strings: in any of the forms the upstream
 * could quote it (as is, URL-encoded, JSON-escaped), or a secret too short to tell apart
 * from ordinary text.
 */
export function mayCarryCredential(text: string, secrets: readonly string[]): boolean {
  return secrets.some((secret) => secret.length < MIN_REDACTABLE || formsOf(secret).some((form) => text.includes(form)));
}

function formsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

/**
 * An upstream's own words, safe to pass on: one line, bounded, with every credential
 * string removed. Undefined when that cannot be ensured.
 */
export function sanitizeUpstreamText(text: string, secrets: readonly string[], maxLength = MAX_UPSTREAM_TEXT): string | undefined {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_REDACTABLE) return undefined;
    for (const form of formsOf(secret)) {
      out = out.split(form).join('[redacted]');
    }
  }
  out = out.replace(/\p{Cc}+/gu, ' ').replace(/\s+/g, ' ').trim();
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}
