/** A value of a query parameter; arrays repeat the parameter, undefined and null leave it out. */
export type QueryValue = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** The base URL of a provider API, checked once: http(s), no credentials, no query or fragment. */
export function parseBaseUrl(raw: string): URL {
  if (!URL.canParse(raw)) throw new Error('the API base URL is not a valid URL');
  const url = new URL(raw);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the API base URL must be http or https');
  if (url.username || url.password) throw new Error('the API base URL must not contain credentials');
  if (url.search || url.hash) throw new Error('the API base URL must not have a query or fragment');
  return url;
}

/**
 * `/repos/{owner}/{repo}` with each parameter percent-encoded as one path segment. A
 * value that is empty, `.` or `..` is refused: the URL parser would resolve it and the
 * request would go to another resource than the one the tool names.
 */
export function expandPath(template: string, params: Readonly<Record<string, string | number>> = {}): string {
  if (!template.startsWith('/')) throw new Error(`path template must start with "/": ${template}`);
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`path parameter ${name} is missing`);
    const text = String(value);
    if (text === '' || text === '.' || text === '..') throw new PathParameterError(name);
    return encodeURIComponent(text);
  });
}

/** A path parameter value that cannot name a resource. */
export class PathParameterError extends Error {
  constructor(readonly parameter: string) {
    super(`${parameter} must not be empty, "." or ".."`);
    this.name = 'PathParameterError';
  }
}

/** A provider link (next page, redirect) that leads off the API base URL: never followed with the credential. */
export class OffApiLinkError extends Error {
  constructor() {
    super('a link that leaves the API base URL is not followed');
    this.name = 'OffApiLinkError';
  }
}

/**
 * The URL of a request: a path template under the base URL (its path kept as a prefix:
 * `https://ghe.example.com/api/v3` + `/repos/…`), or an absolute URL (a next-page link),
 * which must stay on the base URL's origin and under its path, so a provider's link can
 * never send the user's credential elsewhere.
 */
export function requestUrl(base: URL, path: string, params?: Readonly<Record<string, string | number>>, query?: Readonly<Record<string, QueryValue>>): URL {
  let url: URL;
  const basePath = base.pathname.replace(/\/+$/, '');
  if (/^https?:\/\//i.test(path)) {
    url = new URL(path);
    if (url.origin !== base.origin || !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`))) {
      throw new OffApiLinkError();
    }
    if (url.username || url.password) throw new OffApiLinkError();
  } else {
    url = new URL(`${base.origin}${basePath}${expandPath(path, params)}`);
  }
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value as readonly (string | number | boolean)[]) url.searchParams.append(key, String(v));
    else url.searchParams.set(key, String(value));
  }
  return url;
}
