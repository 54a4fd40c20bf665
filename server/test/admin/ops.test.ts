// Operations and cross-cutting behaviour: health, readiness, metrics, the OpenAPI document (validated), sessions
// through a SessionDirectory double, CORS, rate limits, request ids in answers and logs, errors' shape.
import { Validator } from '@seriousme/openapi-schema-validator';
import t from 'tap';
import type { LiveSession, SessionDirectory } from '../../src/admin/session-directory.js';
import { startAdmin } from './helpers.js';

class Sessions implements SessionDirectory {
  readonly live: LiveSession[] = [
    {
      id: 's1',
      identityId: 'idn_00000000000000000001',
      subject: 'u1',
      startedAt: '2026-01-01T00:00:00.000Z',
      worker: 'cuda:0',
      state: 'streaming',
    },
    {
      id: 's2',
      identityId: 'idn_00000000000000000002',
      subject: 'u2',
      startedAt: '2026-01-01T00:01:00.000Z',
      worker: 'cpu',
      state: 'idle',
    },
  ];
  kicked: string[] = [];
  async list() {
    return this.live;
  }
  async kick(id: string) {
    const i = this.live.findIndex((s) => s.id === id);
    if (i < 0) return false;
    this.live.splice(i, 1);
    this.kicked.push(id);
    return true;
  }
}

t.test('health, readiness, metrics, OpenAPI', async (t) => {
  const h = await startAdmin(t);
  t.same(await (await fetch(`${h.url}/healthz`)).json(), { status: 'ok' });
  t.same(await (await fetch(`${h.url}/readyz`)).json(), { status: 'ready', problems: [] });
  await h.json('GET', '/v1/jobs');
  const metrics = await fetch(`${h.url}/metrics`);
  t.match(metrics.headers.get('content-type'), /^text\/plain/);
  const text = await metrics.text();
  for (const name of [
    'splatcast_job_queue_depth{kind="adaptation",state="queued"} 0',
    'splatcast_admin_requests_total{route="/v1/jobs",method="GET",status="2xx"}',
    '# TYPE splatcast_job_stage_seconds histogram',
    '# TYPE splatcast_gpu_utilization_ratio gauge',
    'splatcast_process_cpu_seconds_total',
  ])
    t.ok(text.includes(name), name);

  const doc = await (await fetch(`${h.url}/openapi.json`)).json();
  const validator = new Validator();
  const result = await validator.validate(doc);
  t.same(result.errors ?? [], [], 'the OpenAPI document validates against the OpenAPI 3.1 schema');
  t.equal(result.valid, true);
  t.equal(doc.openapi, '3.1.0');
  const operations = Object.values(doc.paths as Record<string, Record<string, unknown>>).flatMap((p) => Object.keys(p));
  t.ok(operations.length >= 24, `${operations.length} operations documented`);
  t.ok(doc.components.schemas.Identity && doc.components.schemas.Job, 'shared schemas are components');
});

t.test('sessions: list and kick through the SessionDirectory', async (t) => {
  const sessions = new Sessions();
  const h = await startAdmin(t, {}, { sessions });
  const list = await h.json<{ sessions: LiveSession[] }>('GET', '/v1/sessions');
  t.same(
    list.body.sessions.map((s) => s.id),
    ['s1', 's2'],
  );
  t.equal(list.body.sessions[0]?.worker, 'cuda:0');
  t.same((await h.json('DELETE', '/v1/sessions/s1')).body, { kicked: 's1' });
  t.same(sessions.kicked, ['s1']);
  t.equal((await h.json('DELETE', '/v1/sessions/s1')).status, 404);
  t.equal((await h.json('DELETE', '/v1/sessions/bad%20id')).status, 400);
  t.equal((await fetch(`${h.url}/v1/sessions`)).status, 401);
});

t.test('CORS: only the configured origins', async (t) => {
  const h = await startAdmin(t, { cors: { origins: ['https://console.example'] } });
  const allowed = await fetch(`${h.url}/v1/jobs`, {
    method: 'OPTIONS',
    headers: { origin: 'https://console.example', 'access-control-request-method': 'POST' },
  });
  t.equal(allowed.status, 204);
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://console.example');
  const other = await fetch(`${h.url}/healthz`, { headers: { origin: 'https://evil.example' } });
  t.equal(other.headers.get('access-control-allow-origin'), null);
  const none = await startAdmin(t);
  const blocked = await fetch(`${none.url}/healthz`, { headers: { origin: 'https://console.example' } });
  t.equal(blocked.headers.get('access-control-allow-origin'), null, 'no origin is allowed by default');
});

t.test('rate limits answer 429 with Retry-After; health stays reachable', async (t) => {
  const h = await startAdmin(t, { rateLimit: { max: 5, windowSeconds: 60 } });
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await h.call('GET', '/v1/jobs')).status);
  t.same(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  const limited = await h.call('GET', '/v1/jobs');
  t.ok(Number(limited.headers.get('retry-after')) > 0);
  t.match(await limited.json(), { error: { code: 'rate-limited', message: /too many requests/ } });
  t.equal((await fetch(`${h.url}/healthz`)).status, 200);
});

t.test('request ids: echoed, logged, in error bodies; unknown routes answer 404 in the same shape', async (t) => {
  const h = await startAdmin(t);
  const r = await h.call('GET', '/v1/jobs/job_00000000000000000000', { headers: { 'x-request-id': 'trace-123' } });
  t.equal(r.headers.get('x-request-id'), 'trace-123');
  t.match(await r.json(), {
    error: { code: 'not-found', message: 'no job job_00000000000000000000', requestId: 'trace-123' },
  });
  t.ok(
    h.logs.some((l) => l.reqId === 'trace-123' && l.keyId),
    'log lines carry the request id and the key id',
  );
  const generated = await h.call('GET', '/v1/jobs', { headers: { 'x-request-id': 'bad id with spaces' } });
  t.match(generated.headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'a malformed id is replaced');
  const missing = await h.json('GET', '/v2/nothing');
  t.equal(missing.status, 404);
  t.match(missing.body, { error: { code: 'not-found', message: 'no route GET /v2/nothing' } });
  const badJson = await h.call('POST', '/v1/api-keys', {
    body: '{"name":',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(badJson.status, 400);
  t.match(await badJson.json(), { error: { code: 'bad-request' } });
});
