// Durability: the admin server process is killed (SIGKILL) in the middle of a job. Its job process dies with it (no
// orphan keeps training), the database is intact, and the next start resumes the job from its last checkpoint, or,
// with no attempts left, fails it with the reason (and the identity says so).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import type { IdentityRecord } from '../../src/admin/identity-catalog.js';
import type { Job } from '../../src/jobs/job.js';
import { CONSENT, EVIDENCE, ffmpeg, uploadForm } from '../admin/helpers.js';
import { alive, type Teardown, until } from '../helpers/fixture.js';

// Slower than the suite's default per-file limit on a loaded 2-core machine (real prepare, restarted servers).
t.setTimeout(10 * 60_000);

const ENTRY = path.join(import.meta.dirname, 'fixtures', 'admin-entry.ts');

interface Running {
  child: ChildProcess;
  url: string;
  key: string;
}

async function startServer(t: Teardown, dataDir: string, admin: Record<string, unknown>): Promise<Running> {
  const config = {
    port: 0,
    dataDir,
    nodeId: 'node-a',
    rateLimit: { max: 0 },
    uploads: { faceScreen: false },
    ...admin,
  };
  const child = fork(ENTRY, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`the admin server exited (${code}) before listening`)));
  });
  const key = (await readFile(path.join(dataDir, 'admin-key'), 'utf8')).trim();
  return { child, url, key };
}

const api = async <T>(s: Running, method: string, route: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${s.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${s.key}`,
      ...(body !== undefined && !(body instanceof FormData) && { 'content-type': 'application/json' }),
    },
    body: body instanceof FormData ? body : body !== undefined ? JSON.stringify(body) : undefined,
  });
  return (await response.json()) as T;
};

async function setup(t: Teardown) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'splatcast-durable-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const video = path.join(dataDir, '..', `${path.basename(dataDir)}-clip.mp4`);
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=4', '-f', 'lavfi', '-i', 'sine=duration=4'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', video],
  ]);
  t.teardown(() => rm(video, { force: true }));
  return { dataDir, video };
}

async function submit(s: Running, video: string, iterations: number) {
  const form = uploadForm({
    name: 'durable',
    consent: CONSENT,
    video: { data: await readFile(video), fileName: 'clip.mp4' },
    evidence: EVIDENCE,
  });
  const identity = await api<IdentityRecord>(s, 'POST', '/v1/identities', form);
  const job = await api<Job>(s, 'POST', '/v1/jobs', {
    kind: 'adaptation',
    identityId: identity.id,
    settings: { iterations },
  });
  return { identity, job };
}

/** Polls the job until `done` holds. */
async function poll(s: Running, id: string, done: (job: Job) => boolean, timeoutMs = 60000): Promise<Job> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const job = await api<Job>(s, 'GET', `/v1/jobs/${id}`);
    if (done(job)) return job;
    if (performance.now() > deadline) throw new Error(`job ${id}: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('killed mid-job: the restart resumes it from its checkpoint', async (t) => {
  const { dataDir, video } = await setup(t);
  const first = await startServer(t, dataDir, {});
  const { job } = await submit(first, video, 120);
  const before = await poll(first, job.id, (j) => (j.progress?.iteration ?? 0) >= 20);
  const jobPid = Number(await readFile(path.join(dataDir, 'jobs', job.id, 'pid-1'), 'utf8'));
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  await until(() => !alive(jobPid), 5000, 'the orphaned job process to exit');
  t.pass(`the job process ${jobPid} exited with its server`);

  const db = new Database(path.join(dataDir, 'splatcast.db'));
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok', 'the database is intact');
  const row = db.prepare('SELECT state, attempts FROM jobs WHERE id = ?').get(job.id) as {
    state: string;
    attempts: number;
  };
  db.close();
  t.same(row, { state: 'running', attempts: 1 }, 'on disk the job was running when the server died');

  const second = await startServer(t, dataDir, {});
  const done = await poll(second, job.id, (j) => j.state === 'succeeded' || j.state === 'failed');
  t.equal(done.state, 'succeeded', done.error ?? '');
  t.equal(done.attempts, 2);
  const resumedFrom = done.result?.resumedFrom as number;
  t.ok(
    resumedFrom >= (before.progress?.iteration ?? 0) - 1 && resumedFrom < 120,
    `resumed from step ${resumedFrom} (progress had reached ${before.progress?.iteration} before the kill)`,
  );
  const logs = await api<{ lines: { message: string }[] }>(second, 'GET', `/v1/jobs/${job.id}/logs`);
  t.ok(
    logs.lines.some((l) => /interrupted during counting: the server restarted; queued again to resume/.test(l.message)),
    'the log says what happened',
  );
  second.child.kill('SIGTERM');
  await new Promise((resolve) => second.child.once('exit', resolve));
});

t.test('killed mid-job with no attempts left: failed with the reason', async (t) => {
  const { dataDir, video } = await setup(t);
  const first = await startServer(t, dataDir, { jobs: { maxAttempts: 1 } });
  const { job, identity } = await submit(first, video, 150);
  await poll(first, job.id, (j) => (j.progress?.iteration ?? 0) >= 5);
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  const second = await startServer(t, dataDir, { jobs: { maxAttempts: 1 } });
  const failed = await api<Job>(second, 'GET', `/v1/jobs/${job.id}`);
  t.equal(failed.state, 'failed');
  t.match(failed.error, /^interrupted during counting: the server restarted, and it has used all 1 attempts; retry it/);
  const after = await api<IdentityRecord>(second, 'GET', `/v1/identities/${identity.id}`);
  t.equal(after.state, 'failed');
  t.match(after.error, /interrupted during counting/);
  // Retrying resumes from the checkpoint the killed attempt left.
  await api(second, 'POST', `/v1/jobs/${job.id}/retry`);
  const done = await poll(second, job.id, (j) => j.state === 'succeeded');
  t.ok((done.result?.resumedFrom as number) >= 5, `the retry resumed from step ${done.result?.resumedFrom}`);
});
