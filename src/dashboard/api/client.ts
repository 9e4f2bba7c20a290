/**
 * The one way the dashboard talks to /v1: JSON over fetch, the token (when there is one) as
 * `Authorization: Bearer`, and every refusal turned into an ApiError with the API's own code
 * and message (docs/api.md: `{error: {code, message}}`), which the pages show as they are.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | undefined>;

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, value);
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message) {
      return new ApiError(response.status, body.error.code ?? '', body.error.message);
    }
  } catch {
    // not JSON: a proxy's page, say; the status says enough
  }
  return new ApiError(response.status, '', `${response.status} ${response.statusText}`.trim());
}

export interface ApiClient {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

export function apiClient(token: string | undefined): ApiClient {
  async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...authHeaders(token),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, '', `the API did not answer (${(err as Error).message})`);
    }
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }
  return {
    get: (path, query) => call('GET', withQuery(path, query)),
    post: (path, body) => call('POST', path, body ?? {}),
  };
}

/** A path segment: task ids and types go into paths as they are, escaped. */
export const seg = (value: string): string => encodeURIComponent(value);
