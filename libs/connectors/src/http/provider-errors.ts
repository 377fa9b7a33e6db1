/**
 * What can go wrong talking to a provider's API, as the provider HTTP client reports it.
 * The native connector turns each into a tool result or a VmcpError (native/outcome.ts);
 * messages are already free of credentials and bounded.
 */

/** The provider answered with an error status (after any retries), or a 2xx the connector reads as an error. */
export class ProviderError extends Error {
  constructor(
    readonly status: number,
    /** The provider's own words, sanitised; undefined when it said nothing usable. */
    readonly providerMessage: string | undefined,
    /** How long the provider asked to wait before trying again, when it did. */
    readonly retryAfterMs?: number,
  ) {
    super(providerMessage ? `HTTP ${status}: ${providerMessage}` : `HTTP ${status}`);
    this.name = 'ProviderError';
  }
}

/** The provider refused the credential (401), after the one refresh or re-read allowed per call. */
export class CredentialRefusedError extends Error {
  constructor(readonly refreshed: boolean) {
    super('credential refused');
    this.name = 'CredentialRefusedError';
  }
}

/** The answer was larger than the connector accepts. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`response larger than ${limitBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/** No answer in time, or no connection at all: worth a retry where repeating is safe. */
export class ProviderUnreachableError extends Error {
  constructor(readonly reason: 'unreachable' | 'timeout') {
    super(reason === 'timeout' ? 'provider did not answer in time' : 'provider unreachable');
    this.name = 'ProviderUnreachableError';
  }
}

/** An answer that is not what the API documents: unreadable JSON, or a redirect away from the API. */
export class ProviderAnswerError extends Error {
  constructor(readonly reason: 'malformed' | 'redirect') {
    super(reason === 'malformed' ? 'provider sent a malformed answer' : 'provider redirected outside its API');
    this.name = 'ProviderAnswerError';
  }
}

/**
 * Thrown by a tool implementation for a problem the model can fix (a bad combination of
 * arguments, nothing found): it becomes a tool result with `isError: true` and this message.
 */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/**
 * The usual places a JSON API puts its error message: GitHub and Notion `message`, OAuth
 * and Slack `error` (+ `error_description`), Google `error.message`, Jira `errorMessages`
 * and `errors`, Salesforce `[{message}]`.
 */
export function defaultErrorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  if (Array.isArray(body)) return defaultErrorMessage(body[0]);
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.message === 'string' && b.message) return b.message;
  if (typeof b.error === 'object' && b.error !== null) return defaultErrorMessage(b.error);
  if (typeof b.error === 'string' && b.error) {
    return typeof b.error_description === 'string' && b.error_description ? `${b.error}: ${b.error_description}` : b.error;
  }
  if (Array.isArray(b.errorMessages) && b.errorMessages.length > 0) return b.errorMessages.filter((m) => typeof m === 'string').join('; ') || undefined;
  if (typeof b.errors === 'object' && b.errors !== null && !Array.isArray(b.errors)) {
    return Object.entries(b.errors as Record<string, unknown>)
      .filter(([, v]) => typeof v === 'string')
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join('; ') || undefined;
  }
  return undefined;
}
