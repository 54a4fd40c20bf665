// Graceful drain: new sessions refused and /readyz 503 at once, open sessions carry on (and resume) until they end
// or the timeout passes; and `main.js` does it on SIGTERM when cluster.drainTimeoutMs is set.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, PROTOCOL_VERSION } from '@splatcast/proto';
import t from 'tap';
import { drainSessions } from '../../src/cluster/drain.js';
import { until } from '../helpers/fixture.js';
import { startServer, TestClient, token } from '../helpers/streaming.js';

const here = path.dirname(fileURLToPath(import.meta.url));

t.test('drainSessions: waits for the sessions to end, or gives up at the timeout', async (t) => {
  let open = 2;
  let accepting = true;
  const fake = {
    stopAccepting: () => {
      accepting = false;
    },
    get size() {
      return open;
    },
  };
  setTimeout(() => open--, 50);
  setTimeout(() => open--, 120);
  const seen: number[] = [];
  const done = await drainSessions(fake, { timeoutMs: 2000, pollMs: 10, progress: (n) => seen.push(n) });
  t.notOk(accepting, 'stopped accepting first');
  t.match(done, { drained: true, remaining: 0 });
  t.ok(done.waitedMs >= 100 && done.waitedMs < 1000, `waited ${done.waitedMs} ms`);
  t.same(seen, [2, 1], 'progress as sessions end');
  open = 1;
  const late = await drainSessions(fake, { timeoutMs: 100, pollMs: 10 });
  t.match(late, { drained: false, remaining: 1 });
});

t.test('a draining server refuses new sessions, keeps the open one, and says so on /readyz', async (t) => {
  const server = await startServer(t);
  const base = `http://127.0.0.1:${server.port}`;
  t.equal((await fetch(`${base}/readyz`)).status, 200, 'ready before');
  const client = await TestClient.open(server);
  const sessionId = client.welcome?.sessionId as string;
  const drain = server.drain(20_000);
  const ready = await fetch(`${base}/readyz`);
  t.equal(ready.status, 503, 'not ready while draining');
  t.match(await ready.json(), { ok: false, detail: { accepting: false, sessions: 1 } });
  t.equal((await fetch(`${base}/healthz`)).status, 200, 'still alive (liveness must not kill a draining pod)');
  const refused = await TestClient.connect(server.streamUrl);
  const answer = await refused.request({
    case: 'hello',
    value: { protocolVersion: PROTOCOL_VERSION, token: await token() },
  });
  t.match(answer.payload, { case: 'error', value: { code: ErrorCode.SESSION_LIMIT_REACHED, fatal: true } });
  t.match(answer.payload.value, { message: /draining/ });
  const pong = await client.request({ case: 'ping', value: { clientTimeMs: 1 } });
  t.equal(pong.payload.case, 'pong', 'the open session still works');
  // A dropped connection may still resume its session while draining.
  client.ws.terminate();
  const back = await TestClient.connect(server.streamUrl);
  const resumed = await back.request({
    case: 'hello',
    value: {
      protocolVersion: PROTOCOL_VERSION,
      token: await token(),
      resumeSessionId: sessionId,
    },
  });
  t.match(resumed.payload, { case: 'welcome', value: { sessionId, resumed: true } });
  back.close();
  const result = await drain;
  t.match(result, { drained: true, remaining: 0 }, 'drained once the session closed');
});

t.test('main.js on SIGTERM: drains, then exits 0 once the last session ends', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-drain-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      http: { port: 0, demo: false },
      engine: { device: 'cpu', width: 64, height: 64 },
      identities: { fixtureFaceGaussians: 300, fixtureMouthGaussians: 60 },
      admin: { enabled: false, dataDir: path.join(dir, 'data') },
    }),
  );
  const child = spawn(process.execPath, [path.resolve(here, '../../dist/main.js'), '--config', config], {
    env: { ...process.env, SPLATCAST_DRAIN_TIMEOUT_MS: '30000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  await until(() => /dev token for identity "fixture"[^\n]*:\n\S+\n/.test(output), 90_000, 'the server to start');
  const url = /streaming on (ws:\/\/\S+\/v1\/stream)/.exec(output)?.[1] as string;
  const devToken = /dev token for identity "fixture"[^\n]*:\n(\S+)\n/.exec(output)?.[1] as string;
  const client = await TestClient.connect(url);
  const welcome = await client.request({
    case: 'hello',
    value: { protocolVersion: PROTOCOL_VERSION, token: devToken },
  });
  t.equal(welcome.payload.case, 'welcome');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  await until(() => output.includes('draining: no new sessions'), 10_000, 'the drain to start');
  const readyz = url.replace('ws://', 'http://').replace('/v1/stream', '/readyz');
  t.equal((await fetch(readyz)).status, 503, 'not ready while draining');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(child.exitCode, null, 'still running while a session is open');
  client.close();
  t.equal(await exited, 0, 'exits 0 after the drain');
  t.match(output, /drained in \d+ ms/);
});
