// Where session tokens come from: one given token (a token is not single-use, so every session may share it), the
// server's development endpoint (`/dev/token`, served only in development mode), or the admin API (`POST
// /v1/tokens` with an API key), which is how production mints them: one per session, as an integrator's backend would.

export type TokenSource =
  | { kind: 'fixed'; token: string }
  | { kind: 'dev'; httpUrl: string; identityId: string }
  | { kind: 'admin'; adminUrl: string; apiKey: string; identityId: string; ttlSeconds: number };

export class TokenError extends Error {
  override name = 'TokenError';
}

/** http(s)://host:port of a ws(s)://host:port/v1/stream URL. */
export function httpBase(streamUrl: string): string {
  let url: URL;
  try {
    url = new URL(streamUrl);
  } catch {
    throw new TokenError(`--url ${streamUrl} is not a URL (ws://host:port/v1/stream)`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new TokenError(`--url ${streamUrl} must be a ws:// or wss:// URL`);
  return `${url.protocol === 'wss:' ? 'https' : 'http'}://${url.host}`;
}

export async function fetchToken(source: TokenSource): Promise<string> {
  if (source.kind === 'fixed') return source.token;
  const request =
    source.kind === 'dev'
      ? new Request(`${source.httpUrl}/dev/token?identity=${encodeURIComponent(source.identityId)}`)
      : new Request(`${source.adminUrl.replace(/\/$/, '')}/v1/tokens`, {
          method: 'POST',
          headers: { authorization: `Bearer ${source.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ identityId: source.identityId, ttlSeconds: source.ttlSeconds }),
        });
  let res: Response;
  try {
    res = await fetch(request, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new TokenError(`token from ${request.url}: ${(error as Error).message}`);
  }
  const text = await res.text();
  if (!res.ok) {
    const hint =
      source.kind === 'dev' && res.status === 404
        ? ' (is the server in development mode? otherwise pass --token or --admin-url and --admin-key)'
        : '';
    throw new TokenError(`token from ${request.url}: HTTP ${res.status} ${text.slice(0, 200)}${hint}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new TokenError(`token from ${request.url}: not JSON: ${text.slice(0, 100)}`);
  }
  const token = (body as { token?: unknown }).token;
  if (typeof token !== 'string' || token.length === 0)
    throw new TokenError(`token from ${request.url}: the answer has no "token"`);
  return token;
}
