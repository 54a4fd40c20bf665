// End to end with the real executors: a shared clip uploaded with consent -> an adaptation job (the engine's real
// prepare, then its real trainIdentity at tiny CPU settings) -> the identity becomes ready -> a client token for it
// -> a streaming session opened with that token (Node SDK, a streaming server on the same data directory) speaks
// with it. Then a pre-training job makes a motion prior from that identity's dataset, the prior appears in the
// catalog, and a second adaptation starts from it.

import { connect } from '@splatcast/client-sdk/node';
import { readDatasetManifest } from '@splatcast/engine/dist/prepare/dataset-manifest.js';
import { jwtVerify } from 'jose';
import t from 'tap';
import { DEFAULT_EXECUTORS } from '../../src/admin/admin-server.js';
import type { IdentityRecord } from '../../src/admin/identity-catalog.js';
import { parseServerConfig } from '../../src/config.js';
import { DataDirIdentityResolver } from '../../src/identities/identity-resolver.js';
import type { Job } from '../../src/jobs/job.js';
import { DataDir } from '../../src/storage/data-dir.js';
import { StreamingServer } from '../../src/streaming-server.js';
import { syntheticSpeech, until } from '../helpers/fixture.js';
import { MAY, noMedia, startAdmin, upload } from './helpers.js';

// Slower than the suite's default per-file limit on a loaded 2-core machine (real prepare, restarted servers).
t.setTimeout(20 * 60_000);

const SECRET = 'end-to-end-secret-at-least-32-bytes-long';

t.test('upload -> adaptation -> ready identity -> token -> rendered frames', { skip: noMedia }, async (t) => {
  const h = await startAdmin(t, { tokens: { secret: SECRET } }, { executors: DEFAULT_EXECUTORS });
  const created = await upload(h, MAY);
  t.equal(created.status, 201, 'the clip passes every upload check, face screen included');
  const identity = created.body as unknown as IdentityRecord;
  const started = performance.now();
  const submitted = await h.json<Job>('POST', '/v1/jobs', {
    kind: 'adaptation',
    identityId: identity.id,
    device: 'cpu',
    settings: { iterations: 60, size: 64, maxSeconds: 4 },
  });
  t.equal(submitted.status, 201);
  let job = submitted.body;
  const stages = new Set<string>();
  await until(
    () => {
      void h.json<Job>('GET', `/v1/jobs/${job.id}`).then((r) => {
        job = r.body;
        if (job.progress) stages.add(job.progress.stage.split(' ')[0] as string);
      });
      return job.state === 'succeeded' || job.state === 'failed';
    },
    1_100_000,
    'the adaptation job to end',
  );
  const seconds = (performance.now() - started) / 1000;
  t.comment(`adaptation job ${job.state} after ${seconds.toFixed(1)} s; stages seen: ${[...stages].join(', ')}`);
  const dataset = await readDatasetManifest(new DataDir(h.dataDir).identity(identity.id).dataset);
  t.equal(dataset.size, 64, 'the real prepare wrote a valid dataset at the asked size');
  t.ok(dataset.frameCount >= 95 && dataset.frameCount <= 105, `4 s at 25 fps (${dataset.frameCount} frames)`);
  t.ok(stages.has('prepare:'), 'progress came through from prepare');

  t.equal(job.state, 'succeeded', job.error ?? '');
  const ready = (await h.json<IdentityRecord>('GET', `/v1/identities/${identity.id}`)).body;
  t.equal(ready.state, 'ready');
  t.ok(ready.package && ready.package.width === 64, 'the package is described on the identity');

  const minted = await h.json<{ token: string }>('POST', '/v1/tokens', { identityId: identity.id, ttlSeconds: 120 });
  const { payload } = await jwtVerify(minted.body.token, new TextEncoder().encode(SECRET), {
    issuer: 'splatcast-admin',
    audience: 'splatcast-stream',
  });
  t.equal(payload.idn, identity.id);

  // A streaming server on the same data directory and token secret: the client's token opens a session on the
  // adapted identity, and its speech is rendered and played back.
  const server = await StreamingServer.start({
    config: parseServerConfig({
      http: { host: '127.0.0.1', port: 0 },
      engine: { device: 'cpu', width: 64, height: 64 },
      auth: { secret: SECRET, devToken: false },
      admin: { dataDir: h.dataDir, enabled: false },
    }),
    identities: new DataDirIdentityResolver(h.dataDir),
  });
  t.teardown(() => server.close());
  const client = await connect({ url: server.streamUrl, token: minted.body.token });
  t.teardown(() => client.close());
  let played: unknown;
  client.on('playbackFinished', (detail: unknown) => {
    played = detail;
  });
  client.pushPcm(syntheticSpeech(16000, 16000), 16000);
  client.endSegment();
  await until(() => played !== undefined, 60_000, 'the adapted identity to speak a second of audio');
  t.match(played, { interrupted: false }, 'a streaming session on the minted token rendered the adapted identity');

  // A motion prior from this identity's (already prepared) dataset, then an adaptation that starts from it.
  const finished = async (submittedJob: Job) => {
    let current = submittedJob;
    await until(
      () => {
        void h.json<Job>('GET', `/v1/jobs/${current.id}`).then((r) => {
          current = r.body;
        });
        return current.state === 'succeeded' || current.state === 'failed';
      },
      1_100_000,
      `job ${submittedJob.kind} to end`,
    );
    return current;
  };
  const pretraining = await h.json<Job>('POST', '/v1/jobs', {
    kind: 'pretraining',
    identityIds: [identity.id],
    name: 'prior from one clip',
    device: 'cpu',
    settings: { iterations: 40, size: 64 },
  });
  t.equal(pretraining.status, 201);
  const pretrained = await finished(pretraining.body);
  t.equal(pretrained.state, 'succeeded', pretrained.error ?? '');
  const { priors } = (await h.json<{ priors: { id: string; name: string }[] }>('GET', '/v1/priors')).body;
  const prior = priors.find((p) => p.name === 'prior from one clip');
  t.ok(prior, 'the prior is in the catalog');
  const adapting = await h.json<Job>('POST', '/v1/jobs', {
    kind: 'adaptation',
    identityId: identity.id,
    priorId: prior?.id,
    device: 'cpu',
    settings: { iterations: 60, size: 64 },
  });
  t.equal(adapting.status, 201, 'the adaptation from the prior is accepted');
  const adapted = await finished(adapting.body);
  t.equal(adapted.state, 'succeeded', adapted.error ?? '');
  const seen = (adapted.result as { motionPrior: string[] | null }).motionPrior;
  t.ok(
    Array.isArray(seen) && seen.length === 1,
    `the identity adapted from the prior (it has seen ${JSON.stringify(seen)})`,
  );
  t.equal((await h.json<IdentityRecord>('GET', `/v1/identities/${identity.id}`)).body.state, 'ready');
});
