export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface ApiClient {
  get<T = unknown>(path: string): Promise<ApiResponse<T>>;
  post<T = unknown>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  put<T = unknown>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  patch<T = unknown>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = unknown>(path: string): Promise<ApiResponse<T>>;
  /** A POST with a raw body and content type, for testing what the API refuses. */
  postRaw<T = unknown>(path: string, body: string, contentType: string): Promise<ApiResponse<T>>;
}

/** A small client for the management API: JSON in, JSON out, the key as a bearer. */
export function api(baseUrl: string, key: string): ApiClient {
  const send = async <T>(method: string, path: string, body?: string, contentType?: string): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
  const json = (b: unknown) => (b === undefined ? undefined : JSON.stringify(b));
  return {
    get: (p) => send('GET', p),
    post: (p, b) => send('POST', p, json(b ?? {})),
    put: (p, b) => send('PUT', p, json(b ?? {})),
    patch: (p, b) => send('PATCH', p, json(b ?? {})),
    delete: (p) => send('DELETE', p),
    postRaw: (p, b, ct) => send('POST', p, b, ct),
  };
}
