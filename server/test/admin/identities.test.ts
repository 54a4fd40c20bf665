// /v1/identities: upload with consent, list, get, rename, evidence download, delete (every file), and the errors.
import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { IdentityRecord } from '../../src/admin/identity-catalog.js';
import { CONSENT, EVIDENCE, MAY, noMedia, startAdmin, storedBytes, upload, uploadForm } from './helpers.js';

t.test('create, list, get, rename, download the evidence, delete', { skip: noMedia }, async (t) => {
  const h = await startAdmin(t);
  const before = await storedBytes(h.dataDir);
  const created = await upload(h, MAY, 'may talking.mp4');
  t.equal(created.status, 201, JSON.stringify(created.body));
  const identity = created.body as unknown as IdentityRecord;
  t.match(identity, {
    id: /^idn_[0-9a-f]{20}$/,
    name: 'May',
    state: 'uploaded',
    source: { fileName: 'may talking.mp4', width: 512, height: 512, videoCodec: 'h264', audioCodec: 'aac', fps: 25 },
    consent: {
      ...CONSENT,
      evidence: { fileName: 'consent.txt', mediaType: 'text/plain', bytes: EVIDENCE.data.length },
    },
    package: null,
  });
  t.ok(Math.abs(identity.source.durationSeconds - 5) < 0.1);
  const root = path.join(h.dataDir, 'identities', identity.id);
  t.same((await readdir(root)).sort(), ['consent', 'source']);

  const list = await h.json<{ identities: { id: string }[] }>('GET', '/v1/identities');
  t.same(
    list.body.identities.map((i) => i.id),
    [identity.id],
  );
  t.equal((await h.json('GET', '/v1/identities?state=ready')).body.identities.length, 0);
  t.equal((await h.json('GET', `/v1/identities/${identity.id}`)).body.name, 'May');
  const renamed = await h.json('PATCH', `/v1/identities/${identity.id}`, { name: '  May (studio)  ' });
  t.equal(renamed.status, 200);
  t.equal(renamed.body.name, 'May (studio)');

  const evidence = await h.call('GET', `/v1/identities/${identity.id}/consent/evidence`);
  t.equal(evidence.status, 200);
  t.equal(evidence.headers.get('content-type'), 'application/octet-stream');
  t.match(evidence.headers.get('content-disposition'), /^attachment; filename="consent.txt"$/);
  t.equal(evidence.headers.get('x-content-type-options'), 'nosniff');
  t.same(new Uint8Array(await evidence.arrayBuffer()), EVIDENCE.data);

  const deleted = await h.json('DELETE', `/v1/identities/${identity.id}`);
  t.equal(deleted.status, 200);
  t.ok((deleted.body.freedBytes as number) > 300_000);
  await t.rejects(access(root), 'the identity folder is gone');
  t.equal(await storedBytes(h.dataDir), before, 'disk usage back to where it was');
  t.equal((await h.json('GET', `/v1/identities/${identity.id}`)).status, 404);
});

t.test('the consent record is required and checked', { skip: noMedia }, async (t) => {
  const h = await startAdmin(t, { uploads: { faceScreen: false } });
  const cases: [string, Parameters<typeof upload>[3], RegExp][] = [
    ['no consent', { consent: undefined }, /the consent field is required/],
    ['not JSON', { consent: '{nope' }, /not valid JSON/],
    ['subject did not consent', { consent: { ...CONSENT, subjectConsent: false } }, /subjectConsent must be true/],
    ['short statement', { consent: { ...CONSENT, statement: 'ok' } }, /statement must say what was agreed/],
    ['bad date', { consent: { ...CONSENT, recordedAt: 'yesterday' } }, /recordedAt/],
    ['future date', { consent: { ...CONSENT, recordedAt: '2999-01-01T00:00:00Z' } }, /in the future/],
    ['unknown key', { consent: { ...CONSENT, extra: 1 } }, /extra|unrecognized/i],
    ['no evidence', { evidence: undefined }, /consent evidence file \(field "evidence"\) is required/],
    [
      'evidence of an unknown kind',
      { evidence: { data: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), fileName: 'x.pdf' } },
      /must be a PDF, PNG, JPEG/,
    ],
    ['empty evidence', { evidence: { data: new Uint8Array(), fileName: 'x.txt' } }, /evidence file is empty/],
    ['no name', { name: '' }, /name field is required/],
  ];
  for (const [what, extra, message] of cases) {
    const r = await upload(h, MAY, 'may.mp4', extra);
    t.ok(r.status === 400 || r.status === 422, `${what}: ${r.status}`);
    t.match(r.body.error?.message, message, what);
  }
  t.equal((await h.json('GET', '/v1/identities')).body.identities.length, 0, 'nothing was created');
  t.same(await readdir(path.join(h.dataDir, 'incoming')), [], 'no upload left behind');
});

t.test('malformed requests', async (t) => {
  const h = await startAdmin(t, { uploads: { faceScreen: false } });
  const notMultipart = await h.call('POST', '/v1/identities', {
    body: 'name=x',
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(notMultipart.status, 400);
  t.match(
    ((await notMultipart.json()) as { error: { message: string } }).error.message,
    /multipart\/form-data, or as JSON/,
  );
  const form = uploadForm({ name: 'x', consent: CONSENT, evidence: EVIDENCE });
  form.append('script', new Blob(['#!/bin/sh']), 'run.sh');
  const unknown = await h.call('POST', '/v1/identities', { body: form });
  t.equal(unknown.status, 400);
  t.match(((await unknown.json()) as { error: { message: string } }).error.message, /unknown file field "script"/);
  const cut = await h.call('POST', '/v1/identities', {
    body: '--x\r\ncontent-disposition: form-data; name="name"\r\n\r\nabc',
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
  });
  t.equal(cut.status, 400, 'a body cut mid-part');
  t.equal((await h.json('GET', '/v1/identities/idn_00000000000000000000')).status, 404);
  const bad = await h.json('GET', '/v1/identities/..%2F..%2Fetc');
  t.equal(bad.status, 400, 'an id that is not one never reaches the file system');
  t.equal((await h.json('PATCH', '/v1/identities/idn_00000000000000000000', { name: 'x' })).status, 404);
  t.equal((await h.json('PATCH', '/v1/identities/idn_00000000000000000000', { name: '' })).status, 400);
  t.equal((await h.json('DELETE', '/v1/identities/idn_00000000000000000000')).status, 404);
  t.equal((await h.json('GET', '/v1/identities?limit=100000')).status, 400);
  const anonymous = await fetch(`${h.url}/v1/identities`);
  t.equal(anonymous.status, 401);
  t.same(await readdir(path.join(h.dataDir, 'incoming')), []);
});
