// Shared pieces of the admin tests: a server on a free port with a fresh data directory, an authenticated client,
// multipart uploads, and test media made with ffmpeg at test time (never committed).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { AdminServer, type AdminServerOptions } from '../../src/admin/admin-server.js';
import { parseAdminConfig } from '../../src/admin/config.js';
import type { Teardown } from '../helpers/fixture.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const COUNTING = pathToFileURL(path.join(here, '..', 'jobs', 'executors', 'counting.ts')).href;
export const MEDIA = path.resolve(here, '../../../../shared/media/video');
export const MAY = path.join(MEDIA, 'may_5s.mp4');
export const noMedia = existsSync(MAY) ? false : `${MAY} is absent (shared test media)`;

export const CONSENT = {
  subjectName: 'May Example',
  recordedBy: 'Operator One',
  recordedAt: '2026-01-02T10:00:00Z',
  statement: 'I agree that my likeness may be used to make a streaming avatar for testing.',
  subjectConsent: true,
};

export interface AdminHarness {
  server: AdminServer;
  url: string;
  key: string;
  dataDir: string;
  /** Logged lines (JSON objects) from the server's pino logger. */
  logs: Record<string, unknown>[];
  call(
    method: string,
    route: string,
    options?: { json?: unknown; body?: BodyInit; headers?: Record<string, string> },
  ): Promise<Response>;
  json<T = Record<string, unknown>>(
    method: string,
    route: string,
    json?: unknown,
  ): Promise<{ status: number; body: T }>;
}

export async function startAdmin(
  t: Teardown,
  admin: Record<string, unknown> = {},
  options: Partial<AdminServerOptions> = {},
): Promise<AdminHarness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'splatcast-admin-'));
  const config = parseAdminConfig({ port: 0, dataDir, nodeId: 'test-node', rateLimit: { max: 0 }, ...admin });
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const server = await AdminServer.start({
    config,
    logger,
    executors: { adaptation: COUNTING },
    slots: [{ device: 'cpu', concurrency: 1 }],
    ...options,
  });
  t.teardown(async () => {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const key = config.apiKeys.bootstrapKey ?? (await readFile(path.join(dataDir, 'admin-key'), 'utf8')).trim();
  const call: AdminHarness['call'] = (method, route, o = {}) =>
    fetch(`${server.url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(o.json !== undefined && { 'content-type': 'application/json' }),
        ...o.headers,
      },
      body: o.json !== undefined ? JSON.stringify(o.json) : o.body,
    });
  const json: AdminHarness['json'] = async (method, route, body) => {
    const response = await call(method, route, { json: body });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {} };
  };
  return { server, url: server.url, key, dataDir, logs, call, json };
}

export interface UploadParts {
  name?: string;
  consent?: unknown;
  video?: { data: Uint8Array; fileName: string };
  evidence?: { data: Uint8Array; fileName: string };
}

export function uploadForm(parts: UploadParts): FormData {
  const form = new FormData();
  if (parts.name !== undefined) form.append('name', parts.name);
  if (parts.consent !== undefined)
    form.append('consent', typeof parts.consent === 'string' ? parts.consent : JSON.stringify(parts.consent));
  if (parts.video) form.append('video', new Blob([parts.video.data]), parts.video.fileName);
  if (parts.evidence) form.append('evidence', new Blob([parts.evidence.data]), parts.evidence.fileName);
  return form;
}

export const EVIDENCE = {
  data: new TextEncoder().encode('Signed consent form, scanned: May Example, 2026-01-02.\n'),
  fileName: 'consent.txt',
};

/** Uploads a video file from disk with a valid consent record. */
export async function upload(
  h: AdminHarness,
  file: string,
  fileName = path.basename(file),
  extra: Partial<UploadParts> = {},
) {
  const form = uploadForm({
    name: 'May',
    consent: CONSENT,
    video: { data: await readFile(file), fileName },
    evidence: EVIDENCE,
    ...extra,
  });
  const response = await h.call('POST', '/v1/identities', { body: form });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & { id: string; error?: { message: string } },
  };
}

export async function ffmpeg(args: string[]): Promise<void> {
  await run('ffmpeg', ['-hide_banner', '-v', 'error', '-y', ...args], { maxBuffer: 16 << 20 });
}

export async function scratch(t: Teardown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-media-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Bytes under the data directory, leaving out the SQLite files (every authenticated request updates a key's
 * last-used time there). */
export async function storedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || /splatcast\.db/.test(entry.name)) continue;
    total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
