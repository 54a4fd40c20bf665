// The streaming server's HTTP side (node:http, no framework: four routes): the demo page and the browser SDK bundle,
// Prometheus /metrics, /healthz (alive), /readyz (taking sessions), and in development mode (auth.devToken) /dev/identities and /dev/token, which the
// demo page uses to pick an identity and get a token without an admin API key. WebSocket upgrades on /v1/stream
// are the signalling server's.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IdentityResolver } from '../identities/identity-resolver.js';
import { Logger } from '../logger.js';
import { registry } from '../metrics/registry.js';
// Registers the CPU gauges of the whole process tree (engine and media workers included) for /metrics.
import '../metrics/process-tree.js';

const logger = new Logger('HttpServer');
const here = path.dirname(fileURLToPath(import.meta.url));
/** server/demo (the page) and client-sdk/dist/browser (the bundle), from src/http or dist/http alike. */
const DEMO_DIR = path.resolve(here, '..', '..', 'demo');
const SDK_BUNDLE_DIR = path.resolve(here, '..', '..', '..', 'client-sdk', 'dist', 'browser');

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(DEMO_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/demo.js': { file: path.join(DEMO_DIR, 'demo.js'), type: 'text/javascript; charset=utf-8' },
  '/sdk/splatcast.js': { file: path.join(SDK_BUNDLE_DIR, 'splatcast.js'), type: 'text/javascript; charset=utf-8' },
};

export interface HttpServerOptions {
  demo: boolean;
  identities: IdentityResolver;
  /** Mints a development token for an identity (only when the dev mode is on). */
  devToken?: (identityId: string) => Promise<string>;
  health: () => { ok: boolean; detail: Record<string, unknown> };
  /** /readyz: healthy and taking new sessions (false while draining): what a load balancer routes by. */
  ready: () => { ok: boolean; detail: Record<string, unknown> };
  /** /v1/route: which node a client should connect to (cluster/route-endpoint.ts). */
  route: (url: URL, req: IncomingMessage) => Promise<{ status: number; body: Record<string, unknown> }>;
}

export function createHttpServer(o: HttpServerOptions): Server {
  return createServer((req, res) => {
    handle(req, res, o).catch((error) => {
      logger.error('%s %s: %s', req.method, req.url, (error as Error).message);
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, o: HttpServerOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain', 'method not allowed\n');
    return;
  }
  if (url.pathname === '/metrics') {
    send(res, 200, registry.contentType, await registry.metrics());
    return;
  }
  if (url.pathname === '/healthz') {
    const health = o.health();
    send(res, health.ok ? 200 : 503, 'application/json', JSON.stringify(health));
    return;
  }
  if (url.pathname === '/v1/route') {
    const { status, body } = await o.route(url, req);
    send(res, status, 'application/json', JSON.stringify(body));
    return;
  }
  if (url.pathname === '/readyz') {
    const ready = o.ready();
    send(res, ready.ok ? 200 : 503, 'application/json', JSON.stringify(ready));
    return;
  }
  if (url.pathname.startsWith('/dev/')) {
    if (!o.devToken) {
      send(res, 404, 'text/plain', 'development mode is off (auth.devToken)\n');
      return;
    }
    if (url.pathname === '/dev/identities') {
      const list = await o.identities.list();
      send(res, 200, 'application/json', JSON.stringify(list.map(({ id, name, fixture }) => ({ id, name, fixture }))));
      return;
    }
    if (url.pathname === '/dev/token') {
      const id = url.searchParams.get('identity') ?? '';
      if (!(await o.identities.resolve(id))) {
        send(res, 404, 'application/json', JSON.stringify({ error: `no identity "${id.slice(0, 100)}"` }));
        return;
      }
      send(res, 200, 'application/json', JSON.stringify({ token: await o.devToken(id) }));
      return;
    }
  }
  const entry = o.demo ? STATIC[url.pathname] : undefined;
  if (!entry) {
    send(res, 404, 'text/plain', 'not found\n');
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(entry.file);
  } catch {
    send(res, 503, 'text/plain', `${url.pathname} is not built (npm run build)\n`);
    return;
  }
  send(res, 200, entry.type, body);
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}
