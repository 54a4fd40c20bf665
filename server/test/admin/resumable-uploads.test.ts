// Resumable uploads (tus 1.0.0): created, sent in chunks, resumed after a server restart from the offset the server
// reports, then named in a JSON identity creation that runs the same checks as multipart; limits and errors.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { AdminServer } from '../../src/admin/admin-server.js';
import { parseAdminConfig } from '../../src/admin/config.js';
import type { IdentityRecord } from '../../src/admin/identity-catalog.js';
import { CONSENT, EVIDENCE, MAY, noMedia, startAdmin } from './helpers.js';

const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function create(url: string, key: string, bytes: number, fileName: string) {
  const r = await fetch(`${url}/v1/uploads`, {
    method: 'POST',
    headers: {
      ...TUS,
      authorization: `Bearer ${key}`,
      'upload-length': String(bytes),
      'upload-metadata': `filename ${b64(fileName)}`,
    },
  });
  return { status: r.status, location: r.headers.get('location') ?? '' };
}

const patch = (url: string, key: string, location: string, offset: number, chunk: Uint8Array) =>
  fetch(`${url}${location}`, {
    method: 'PATCH',
    headers: {
      ...TUS,
      authorization: `Bearer ${key}`,
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body: chunk,
  });

const offsetOf = async (url: string, key: string, location: string) => {
  const r = await fetch(`${url}${location}`, { method: 'HEAD', headers: { ...TUS, authorization: `Bearer ${key}` } });
  return {
    status: r.status,
    offset: Number(r.headers.get('upload-offset')),
    length: Number(r.headers.get('upload-length')),
  };
};

t.test('an upload resumed across a restart becomes an identity', { skip: noMedia }, async (t) => {
  const h = await startAdmin(t, { uploads: { faceScreen: false } });
  const video = await readFile(MAY);
  const up = await create(h.url, h.key, video.length, 'may.mp4');
  t.equal(up.status, 201);
  t.match(up.location, /^\/v1\/uploads\/upl_[0-9a-f]{20}$/);
  const half = Math.floor(video.length / 2);
  t.equal((await patch(h.url, h.key, up.location, 0, video.subarray(0, half))).status, 204);
  t.same(await offsetOf(h.url, h.key, up.location), { status: 200, offset: half, length: video.length });

  // Restart on the same data directory: the partial upload is still there, at the same offset.
  await h.server.close();
  const config = parseAdminConfig({
    port: 0,
    dataDir: h.dataDir,
    nodeId: 'test-node',
    rateLimit: { max: 0 },
    uploads: { faceScreen: false },
  });
  const again = await AdminServer.start({
    config,
    logger: (await import('pino')).default({ level: 'silent' }),
    slots: [],
  });
  t.teardown(() => again.close());
  const url = again.url;
  t.equal((await offsetOf(url, h.key, up.location)).offset, half, 'resumed where it stopped');
  t.equal((await patch(url, h.key, up.location, 0, video.subarray(0, 10))).status, 409, 'a wrong offset is refused');
  t.equal((await patch(url, h.key, up.location, half, video.subarray(half))).status, 204);

  const ev = await create(url, h.key, EVIDENCE.data.length, 'consent.txt');
  await patch(url, h.key, ev.location, 0, EVIDENCE.data);
  const id = (loc: string) => loc.split('/').at(-1);
  const created = await fetch(`${url}/v1/identities`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'May (resumable)',
      consent: CONSENT,
      video: id(up.location),
      evidence: id(ev.location),
    }),
  });
  t.equal(created.status, 201);
  const identity = (await created.json()) as IdentityRecord;
  t.match(identity, { name: 'May (resumable)', source: { fileName: 'may.mp4', bytes: video.length, width: 512 } });
  t.same(await readdir(path.join(h.dataDir, 'uploads')), [], 'the uploads were taken');
  t.equal((await offsetOf(url, h.key, up.location)).status, 404, 'and are gone from the upload endpoint');
});

t.test('resumable uploads: limits, unfinished and unknown uploads, the checks still apply', async (t) => {
  const h = await startAdmin(t, { uploads: { faceScreen: false, maxVideoBytes: 2 ** 20, maxEvidenceBytes: 2 ** 16 } });
  t.equal((await create(h.url, h.key, 2 ** 21, 'big.mp4')).status, 413, 'over the size limit');
  const big = await create(h.url, h.key, 2 ** 16 + 10, 'e.txt');
  await patch(h.url, h.key, big.location, 0, new Uint8Array(2 ** 16 + 10).fill(0x61));
  const tooBig = await h.json<{ error: { message: string } }>('POST', '/v1/identities', {
    name: 'x',
    consent: CONSENT,
    evidence: big.location.split('/').at(-1),
  });
  t.equal(tooBig.status, 413, 'each file kind has its own limit');
  t.match(tooBig.body.error.message, /the evidence is larger than the limit/);
  const noAuth = await fetch(`${h.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '10' } });
  t.equal(noAuth.status, 401);
  const get = await fetch(`${h.url}/v1/uploads/upl_00000000000000000000`, {
    headers: { authorization: `Bearer ${h.key}` },
  });
  t.equal(get.status, 404, 'uploads are never served back');

  const part = await create(h.url, h.key, 100, 'x.mp4');
  await patch(h.url, h.key, part.location, 0, new Uint8Array(40));
  const ev = await create(h.url, h.key, EVIDENCE.data.length, 'consent.txt');
  await patch(h.url, h.key, ev.location, 0, EVIDENCE.data);
  const post = (body: unknown) => h.json<{ error: { message: string } }>('POST', '/v1/identities', body);
  const id = (loc: string) => loc.split('/').at(-1);
  const unfinished = await post({ name: 'x', consent: CONSENT, video: id(part.location), evidence: id(ev.location) });
  t.equal(unfinished.status, 409);
  t.match(unfinished.body.error.message, /is not finished: 40 of 100 bytes/);
  t.equal((await post({ name: 'x', consent: CONSENT, video: 'upl_00000000000000000000' })).status, 404);
  t.equal((await post({ name: 'x', consent: CONSENT, video: '../../etc/passwd' })).status, 400);
  t.match((await post({ name: 'x', other: 1 })).body.error.message, /unknown field "other"/);

  await patch(h.url, h.key, part.location, 40, new Uint8Array(60));
  const ev2 = await create(h.url, h.key, EVIDENCE.data.length, 'consent.txt');
  await patch(h.url, h.key, ev2.location, 0, EVIDENCE.data);
  const junk = await post({ name: 'x', consent: CONSENT, video: id(part.location), evidence: id(ev2.location) });
  t.equal(junk.status, 422, 'a finished upload goes through every check');
  t.match(junk.body.error.message, /not an MP4, MOV, WebM or Matroska video/);
  t.same(await readdir(path.join(h.dataDir, 'incoming')), [], 'and leaves nothing behind when refused');
  t.notOk((await readdir(path.join(h.dataDir, 'uploads'))).includes(id(part.location) as string));
});
