import { pageNumberOf, parseLinkHeader } from './link-header.js';
import type { ProviderHttp, ProviderRequest, ProviderResponse } from './provider-http.js';

/**
 * Where a provider's next page is, given this page's answer and the request that got it;
 * undefined on the last page. One strategy per pagination style.
 */
export type NextPage = (response: ProviderResponse, request: ProviderRequest) => ProviderRequest | undefined;

/** The `rel="next"` URL of a response's `Link` header (GitHub, GitLab, Jira Server), or undefined. */
export function nextLink(response: ProviderResponse): string | undefined {
  return parseLinkHeader(response.headers.get('link')).get('next');
}

/** The page number of the `rel="next"` link (GitHub's `page`), for a tool that hands the model a `next_page`. */
export function nextPageNumber(response: ProviderResponse, param = 'page'): number | undefined {
  return pageNumberOf(nextLink(response), param);
}

/** Follows `Link: <…>; rel="next"` (the client refuses links off the API base URL). */
export const linkHeaderPages: NextPage = (response, request) => {
  const next = nextLink(response);
  return next ? { method: request.method, path: next, ...(request.headers ? { headers: request.headers } : {}) } : undefined;
};

/**
 * A cursor read from the answer and sent back as a query parameter: Slack
 * (`response_metadata.next_cursor` → `cursor`), Gmail and Calendar (`nextPageToken` → `pageToken`).
 */
export function queryCursorPages(param: string, cursorOf: (body: unknown) => unknown): NextPage {
  return (response, request) => {
    const cursor = cursorOf(response.body);
    return typeof cursor === 'string' && cursor !== '' ? { ...request, query: { ...request.query, [param]: cursor } } : undefined;
  };
}

/** A cursor read from the answer and sent back in the JSON body: Notion (`next_cursor` → `start_cursor`). */
export function bodyCursorPages(field: string, cursorOf: (body: unknown) => unknown): NextPage {
  return (response, request) => {
    const cursor = cursorOf(response.body);
    const json = typeof request.json === 'object' && request.json !== null ? request.json : {};
    return typeof cursor === 'string' && cursor !== '' ? { ...request, json: { ...json, [field]: cursor } } : undefined;
  };
}

export interface CollectOptions<T> {
  /** The items of one page's answer. */
  readonly items: (body: unknown) => readonly T[];
  readonly next: NextPage;
  /** Stop once this many items are collected (the rest of a page is dropped). */
  readonly maxItems: number;
  /** Stop after this many pages whatever the count (default 10). */
  readonly maxPages?: number;
}

/**
 * Items from consecutive pages until `maxItems`, the last page, or `maxPages`. `next` is
 * the request for the page after the ones read (undefined when there is none), for a tool
 * that hands the model a cursor to continue from.
 */
export async function collectPages<T>(http: ProviderHttp, first: ProviderRequest, options: CollectOptions<T>): Promise<{ items: T[]; next: ProviderRequest | undefined }> {
  const items: T[] = [];
  let request: ProviderRequest | undefined = first;
  for (let page = 0; request && page < (options.maxPages ?? 10) && items.length < options.maxItems; page++) {
    const response: ProviderResponse = await http.request(request);
    items.push(...options.items(response.body).slice(0, options.maxItems - items.length));
    request = options.next(response, request);
  }
  return { items, next: request };
}
