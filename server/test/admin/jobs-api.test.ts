// /v1/jobs and /v1/priors over HTTP with test-double executors (a fixture package for adaptation, a small file for
// pre-training): submit, progress, live events (SSE), logs, cancel, retry, the identity's states, priors.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import type { IdentityRecord } from '../../src/admin/identity-catalog.js';
import type { Job } from '../../src/jobs/job.js';
import type { Teardown } from '../helpers/fixture.js';
import { type AdminHarness, MAY, noMedia, startAdmin, upload } from './helpers.js';

const executor = (name: string) =>
  pathToFileURL(path.join(import.meta.dirname, '..', 'jobs', 'executors', `${name}.ts`)).href;

async function harness(t: Teardown) {
  return startAdmin(
    t,
    { uploads: { faceScreen: false } },
    { executors: { adaptation: executor('fixture-adapter'), pretraining: executor('fixture-prior') } },
  );
}

// biome-ignore lint/suspicious/noExplicitAny: event payloads are checked field by field in the tests
type SseEvent = { event: string; data: any };

/** Reads Server-Sent Events from `route` until `stop` says so; returns them. */
async function events(h: AdminHarness, route: string, stop: (events: SseEvent[]) => boolean) {
  const response = await h.call('GET', route);
  const out: SseEvent[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!stop(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
    let end = text.indexOf('\n\n');
    while (end >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) out.push({ event, data: JSON.parse(data) });
      end = text.indexOf('\n\n');
    }
  }
  await reader.cancel().catch(() => {});
  return { response, events: out };
}

t.test('adaptation: queued, progress over SSE, logs, identity ready, token', { skip: noMedia }, async (t) => {
  const h = await harness(t);
  const identity = (await upload(h, MAY)).body as unknown as IdentityRecord;
  const submitted = await h.json<Job>('POST', '/v1/jobs', {
    kind: 'adaptation',
    identityId: identity.id,
    settings: { iterations: 8 },
  });
  t.equal(submitted.status, 201);
  t.match(submitted.body, {
    kind: 'adaptation',
    state: 'queued',
    identityId: identity.id,
    device: 'auto',
    priority: 0,
  });
  t.equal((await h.json('GET', `/v1/identities/${identity.id}`)).body.state, 'adapting');
  const again = await h.json('POST', '/v1/jobs', { kind: 'adaptation', identityId: identity.id });
  t.equal(again.status, 409, 'one adaptation per identity at a time');

  const { response, events: seen } = await events(h, `/v1/jobs/${submitted.body.id}/events`, () => false);
  t.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const jobs = seen.filter((e) => e.event === 'job').map((e) => e.data as Job);
  t.equal(jobs[0]?.id, submitted.body.id, 'the stream starts with the current state');
  t.equal(jobs.at(-1)?.state, 'succeeded', 'and ends when the job does');
  const training = jobs.filter((j) => j.progress?.stage === 'training');
  t.ok(training.length >= 2, `progress events (${training.length})`);
  t.match(jobs.at(-1)?.progress, { stage: 'training', iteration: 8, total: 8, psnr: 28, etaSeconds: 0 });
  t.ok(
    seen.some((e) => e.event === 'log' && e.data.message === 'package written'),
    'log events',
  );

  const ready = await h.json<IdentityRecord>('GET', `/v1/identities/${identity.id}`);
  t.equal(ready.body.state, 'ready');
  t.match(ready.body.package, { gaussians: { face: 500, mouth: 100 }, width: 512, height: 512, frames: 10 });
  const logs = await h.json<{ lines: { seq: number; message: string }[] }>('GET', `/v1/jobs/${submitted.body.id}/logs`);
  t.match(logs.body.lines[0]?.message, /started on cpu \(attempt 1 of 3\)/);
  const later = await h.json<{ lines: unknown[] }>(
    'GET',
    `/v1/jobs/${submitted.body.id}/logs?after=${logs.body.lines.at(-1)?.seq}`,
  );
  t.same(later.body.lines, []);
  const list = await h.json<{ jobs: Job[] }>('GET', `/v1/jobs?identityId=${identity.id}&state=succeeded`);
  t.same(
    list.body.jobs.map((j) => j.id),
    [submitted.body.id],
  );
  t.equal(
    (await h.json('POST', `/v1/jobs/${submitted.body.id}/cancel`)).status,
    409,
    'a finished job is not cancelled',
  );
  t.equal((await h.json('POST', `/v1/jobs/${submitted.body.id}/retry`)).status, 409, 'nor retried');
});

t.test('cancel and retry over HTTP; a failed adaptation marks the identity', { skip: noMedia }, async (t) => {
  const h = await harness(t);
  const identity = (await upload(h, MAY)).body as unknown as IdentityRecord;
  const job = (
    await h.json<Job>('POST', '/v1/jobs', {
      kind: 'adaptation',
      identityId: identity.id,
      settings: { iterations: 2000 },
    })
  ).body;
  let current: Job | undefined;
  const poll = async () => {
    current = (await h.json<Job>('GET', `/v1/jobs/${job.id}`)).body;
  };
  for (let i = 0; i < 300 && current?.progress?.stage !== 'training'; i++) await poll();
  const cancel = await h.json<Job>('POST', `/v1/jobs/${job.id}/cancel`);
  t.equal(cancel.status, 202);
  t.equal(cancel.body.cancelRequested, true);
  while (current?.state !== 'cancelled') await poll();
  t.equal(current?.error, 'cancelled by an operator');
  const failed = (await h.json<IdentityRecord>('GET', `/v1/identities/${identity.id}`)).body;
  t.equal(failed.state, 'failed');
  t.match(failed.error, new RegExp(`adaptation job ${job.id} cancelled`));
  t.equal(
    (await h.json('POST', '/v1/tokens', { identityId: identity.id })).status,
    409,
    'no token for an unready identity',
  );

  const retried = await h.json<Job>('POST', `/v1/jobs/${job.id}/retry`);
  t.equal(retried.status, 202);
  t.equal(retried.body.state, 'queued');
  t.equal((await h.json('GET', `/v1/identities/${identity.id}`)).body.state, 'adapting');
  t.equal((await h.json('POST', `/v1/jobs/${job.id}/cancel`)).status, 202);
  do await poll();
  while (current?.state !== 'cancelled');

  const errors: [unknown, number, RegExp][] = [
    [{ kind: 'adaptation' }, 400, /takes identityId/],
    [{ kind: 'adaptation', identityId: 'idn_00000000000000000000' }, 404, /no identity/],
    [{ kind: 'adaptation', identityId: identity.id, device: 'cuda' }, 422, /no cuda job slots/],
    [{ kind: 'adaptation', identityId: identity.id, priorId: 'pri_00000000000000000000' }, 404, /no motion prior/],
    [{ kind: 'pretraining', identityIds: [] }, 400, /identityIds/],
    [{ kind: 'pretraining', identityId: identity.id }, 400, /takes identityIds/],
    [{ kind: 'painting' }, 400, /kind/],
    [{ kind: 'adaptation', identityId: identity.id, settings: { iterations: -1 } }, 400, /iterations/],
    [{ kind: 'adaptation', identityId: identity.id, extra: true }, 400, /additional/],
  ];
  for (const [body, status, message] of errors) {
    const r = await h.json<{ error: { message: string } }>('POST', '/v1/jobs', body);
    t.equal(r.status, status, JSON.stringify(body));
    t.match(r.body.error?.message, message);
  }
  for (const route of ['', '/logs', '/events'])
    t.equal((await h.json('GET', `/v1/jobs/job_00000000000000000000${route}`)).status, 404, `GET ${route || 'job'}`);
  t.equal((await h.json('POST', '/v1/jobs/job_00000000000000000000/cancel')).status, 404);
  t.equal((await h.json('POST', '/v1/jobs/job_00000000000000000000/retry')).status, 404);
  t.equal((await h.json('GET', '/v1/jobs/not-a-job')).status, 400);
});

t.test(
  'pre-training makes a motion prior; priors: list, default, adapt from it, delete',
  { skip: noMedia },
  async (t) => {
    const h = await harness(t);
    const a = (await upload(h, MAY)).body as unknown as IdentityRecord;
    const b = (await upload(h, MAY)).body as unknown as IdentityRecord;
    const job = (
      await h.json<Job>('POST', '/v1/jobs', { kind: 'pretraining', identityIds: [a.id, b.id], name: 'two Mays' })
    ).body;
    const { events: seen } = await events(h, '/v1/events', (e) =>
      e.some((x) => x.event === 'job' && x.data.id === job.id && x.data.state === 'succeeded'),
    );
    t.ok(seen.length > 0, 'the all-jobs stream saw it finish');
    const priors = (
      await h.json<{ priors: { id: string; name: string; isDefault: boolean; datasets: string[] }[] }>(
        'GET',
        '/v1/priors',
      )
    ).body.priors;
    t.equal(priors.length, 1);
    t.match(priors[0], { name: 'two Mays', isDefault: false, datasets: [a.id, b.id], jobId: job.id });
    const id = priors[0]?.id as string;
    t.equal((await h.json('GET', `/v1/priors/${id}`)).body.id, id);
    const made = await h.json('POST', `/v1/priors/${id}/default`);
    t.equal(made.body.isDefault, true);
    const adapt = await h.json<Job>('POST', '/v1/jobs', {
      kind: 'adaptation',
      identityId: a.id,
      settings: { iterations: 2 },
    });
    t.equal(adapt.body.params.priorId, id, 'adaptation starts from the default prior');
    t.equal((await h.json('DELETE', `/v1/priors/${id}`)).status, 409, 'not while a job adapts from it');
    for (let i = 0; i < 600; i++) {
      if ((await h.json<Job>('GET', `/v1/jobs/${adapt.body.id}`)).body.state === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    t.equal((await h.json<IdentityRecord>('GET', `/v1/identities/${a.id}`)).body.priorId, id);
    t.equal((await h.json('DELETE', `/v1/priors/${id}`)).status, 200);
    t.same((await h.json('GET', '/v1/priors')).body.priors, []);
    t.equal((await h.json('GET', `/v1/priors/${id}`)).status, 404);
    t.equal((await h.json('POST', `/v1/priors/${id}/default`)).status, 404);
    t.equal((await h.json('DELETE', `/v1/priors/${id}`)).status, 404);
  },
);

t.test('deleting an identity stops its job, ends its sessions and removes every file', { skip: noMedia }, async (t) => {
  const kicked: string[] = [];
  const sessions = {
    list: async () => [
      {
        id: 'live-1',
        identityId: 'x',
        subject: 's',
        startedAt: new Date().toISOString(),
        worker: 'cpu',
        state: 'streaming',
      },
    ],
    kick: async (id: string) => {
      kicked.push(id);
      return true;
    },
  };
  const h = await startAdmin(
    t,
    { uploads: { faceScreen: false } },
    { executors: { adaptation: executor('fixture-adapter') }, sessions },
  );
  const identity = (await upload(h, MAY)).body as unknown as IdentityRecord;
  sessions.list = async () => [
    {
      id: 'live-1',
      identityId: identity.id,
      subject: 's',
      startedAt: new Date().toISOString(),
      worker: 'cpu',
      state: 'streaming',
    },
    {
      id: 'live-2',
      identityId: 'idn_99999999999999999999',
      subject: 's',
      startedAt: new Date().toISOString(),
      worker: 'cpu',
      state: 'streaming',
    },
  ];
  const job = (
    await h.json<Job>('POST', '/v1/jobs', {
      kind: 'adaptation',
      identityId: identity.id,
      settings: { iterations: 5000 },
    })
  ).body;
  for (let i = 0; i < 600; i++) {
    if ((await h.json<Job>('GET', `/v1/jobs/${job.id}`)).body.progress) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const deleted = await h.json('DELETE', `/v1/identities/${identity.id}`);
  t.equal(deleted.status, 200);
  const after = (await h.json<Job>('GET', `/v1/jobs/${job.id}`)).body;
  t.equal(after.state, 'cancelled');
  t.equal(after.error, `identity ${identity.id} was deleted`);
  t.same(kicked, ['live-1'], 'only its own sessions were ended');
  t.equal((await h.json('GET', `/v1/identities/${identity.id}`)).status, 404);
  t.equal((await h.json('POST', `/v1/jobs/${job.id}/retry`)).status, 404, 'its jobs cannot be retried');
  t.same(await readdir(path.join(h.dataDir, 'identities')), []);
});
