// /v1/tokens (client JWTs, checked with jose the way a verifier does) and /v1/api-keys (create, rotate with a grace
// period, revoke), the bootstrap key, and what the database keeps of a key (its hash only).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import t from 'tap';
import type { IdentityRecord } from '../../src/admin/identity-catalog.js';
import type { Job } from '../../src/jobs/job.js';
import { type AdminHarness, MAY, noMedia, startAdmin, upload } from './helpers.js';

const SECRET = 'a-test-secret-of-at-least-thirty-two-bytes!';
const adapter = pathToFileURL(path.join(import.meta.dirname, '..', 'jobs', 'executors', 'fixture-adapter.ts')).href;

async function readyIdentity(h: AdminHarness): Promise<string> {
  const identity = (await upload(h, MAY)).body as unknown as IdentityRecord;
  const job = (
    await h.json<Job>('POST', '/v1/jobs', { kind: 'adaptation', identityId: identity.id, settings: { iterations: 1 } })
  ).body;
  for (let i = 0; i < 600; i++) {
    const state = (await h.json<Job>('GET', `/v1/jobs/${job.id}`)).body.state;
    if (state === 'succeeded') return identity.id;
    if (state === 'failed') throw new Error('adaptation failed');
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('adaptation did not finish');
}

t.test('client tokens: claims, expiry, scope, limits', { skip: noMedia }, async (t) => {
  const h = await startAdmin(
    t,
    { uploads: { faceScreen: false }, tokens: { secret: SECRET, defaultTtlSeconds: 300, maxTtlSeconds: 900 } },
    { executors: { adaptation: adapter } },
  );
  const id = await readyIdentity(h);
  const minted = await h.json<{ token: string; tokenId: string; expiresAt: string; capabilities: string[] }>(
    'POST',
    '/v1/tokens',
    {
      identityId: id,
      capabilities: ['session', 'audio'],
      subject: 'user-42',
    },
  );
  t.equal(minted.status, 201);
  t.same(minted.body.capabilities, ['session', 'audio']);
  t.same(decodeProtectedHeader(minted.body.token), { alg: 'HS256', typ: 'JWT' });
  const { payload } = await jwtVerify(minted.body.token, new TextEncoder().encode(SECRET), {
    issuer: 'splatcast-admin',
    audience: 'splatcast-stream',
    algorithms: ['HS256'],
  });
  t.match(payload, { idn: id, cap: ['session', 'audio'], sub: 'user-42', jti: minted.body.tokenId });
  t.equal((payload.exp as number) - (payload.iat as number), 300, 'the default lifetime');
  t.equal(new Date((payload.exp as number) * 1000).toISOString(), minted.body.expiresAt);
  await t.rejects(jwtVerify(minted.body.token, new TextEncoder().encode(`${SECRET}x`)), 'another secret fails');

  const all = await h.json<{ token: string }>('POST', '/v1/tokens', { identityId: id, ttlSeconds: 10 });
  const { payload: p2 } = await jwtVerify(all.body.token, new TextEncoder().encode(SECRET));
  t.same(p2.cap, ['session', 'audio', 'interrupt'], 'every capability by default');
  t.equal(p2.sub, 'anonymous');
  await t.rejects(
    jwtVerify(all.body.token, new TextEncoder().encode(SECRET), { currentDate: new Date(Date.now() + 11_000) }),
    { code: 'ERR_JWT_EXPIRED' },
    'it expires',
  );
  const errors: [unknown, number, RegExp][] = [
    [{ identityId: id, ttlSeconds: 901 }, 400, /over the limit of 900/],
    [{ identityId: id, ttlSeconds: 1 }, 400, /ttlSeconds/],
    [{ identityId: id, capabilities: ['admin'] }, 400, /capabilities/],
    [{ identityId: id, capabilities: [] }, 400, /capabilities/],
    [{ identityId: 'idn_00000000000000000000' }, 404, /no identity/],
    [{ identityId: id, subject: 'has spaces' }, 400, /subject/],
    [{}, 400, /identityId/],
  ];
  for (const [body, status, message] of errors) {
    const r = await h.json<{ error: { message: string } }>('POST', '/v1/tokens', body);
    t.equal(r.status, status, JSON.stringify(body));
    t.match(r.body.error?.message, message);
  }
});

t.test('API keys: hashed at rest, created, rotated with a grace period, revoked', async (t) => {
  const h = await startAdmin(t, { apiKeys: { rotationGraceSeconds: 0 } });
  t.match(h.key, /^sck_key_[0-9a-f]{20}_[A-Za-z0-9_-]{43}$/, 'the first key was written to <data>/admin-key');
  const db = await readFile(path.join(h.dataDir, 'splatcast.db'));
  const wal = await readFile(path.join(h.dataDir, 'splatcast.db-wal')).catch(() => Buffer.alloc(0));
  const secret = h.key.split('_').slice(3).join('_');
  t.notOk(Buffer.concat([db, wal]).includes(secret), 'the secret is not in the database');

  const list = await h.json<{ keys: { id: string; name: string; lastUsedAt: string | null }[] }>('GET', '/v1/api-keys');
  t.equal(list.body.keys.length, 1);
  t.equal(list.body.keys[0]?.name, 'first key');
  t.ok(list.body.keys[0]?.lastUsedAt, 'use is recorded');
  t.notOk(JSON.stringify(list.body).includes(secret), 'listing never shows secrets');

  const created = await h.json<{ key: { id: string }; secret: string }>('POST', '/v1/api-keys', { name: 'ci' });
  t.equal(created.status, 201);
  const asCi = (route: string) =>
    fetch(`${h.url}${route}`, { headers: { authorization: `Bearer ${created.body.secret}` } });
  t.equal((await asCi('/v1/identities')).status, 200, 'the new key works');
  t.equal(
    (await fetch(`${h.url}/v1/identities`, { headers: { 'x-api-key': created.body.secret } })).status,
    200,
    'X-Api-Key works too',
  );

  const rotated = await h.json<{ secret: string; key: { rotatedAt: string } }>(
    'POST',
    `/v1/api-keys/${created.body.key.id}/rotate`,
  );
  t.equal(rotated.status, 200);
  t.ok(rotated.body.key.rotatedAt);
  t.equal((await asCi('/v1/identities')).status, 401, 'with no grace period the old secret stops at once');
  t.equal(
    (await fetch(`${h.url}/v1/identities`, { headers: { authorization: `Bearer ${rotated.body.secret}` } })).status,
    200,
  );
  t.equal((await h.json('DELETE', `/v1/api-keys/${created.body.key.id}`)).status, 200);
  t.equal(
    (await fetch(`${h.url}/v1/identities`, { headers: { authorization: `Bearer ${rotated.body.secret}` } })).status,
    401,
    'a revoked key fails',
  );
  const own = list.body.keys[0]?.id as string;
  t.equal((await h.json('DELETE', `/v1/api-keys/${own}`)).status, 409, 'the last key cannot revoke itself');
  for (const [method, route] of [
    ['POST', '/v1/api-keys/key_00000000000000000000/rotate'],
    ['DELETE', '/v1/api-keys/key_00000000000000000000'],
  ] as const)
    t.equal((await h.json(method, route)).status, 404, `${method} ${route}`);
  t.equal((await h.json('POST', '/v1/api-keys', { name: '' })).status, 400);
  for (const header of ['Bearer', 'Bearer nope', `Bearer ${h.key}x`, `Basic ${h.key}`, `Bearer ${'a'.repeat(600)}`]) {
    const r = await fetch(`${h.url}/v1/jobs`, { headers: { authorization: header } });
    t.equal(r.status, 401, header.slice(0, 30));
    t.match(await r.json(), { error: { code: 'unauthorized', message: /a valid admin API key is required/ } });
  }
});

t.test('rotation grace: the old secret keeps working for the configured time', async (t) => {
  const h = await startAdmin(t, { apiKeys: { rotationGraceSeconds: 3600 } });
  const created = await h.json<{ key: { id: string }; secret: string }>('POST', '/v1/api-keys', { name: 'svc' });
  const rotated = await h.json<{ secret: string; key: { previousValidUntil: string } }>(
    'POST',
    `/v1/api-keys/${created.body.key.id}/rotate`,
  );
  const with_ = (s: string) => fetch(`${h.url}/v1/jobs`, { headers: { authorization: `Bearer ${s}` } });
  t.equal((await with_(created.body.secret)).status, 200, 'the old one still works');
  t.equal((await with_(rotated.body.secret)).status, 200, 'the new one works');
  const left = Date.parse(rotated.body.key.previousValidUntil) - Date.now();
  t.ok(left > 3500_000 && left <= 3600_000, 'for an hour');
});

t.test('a configured bootstrap key', async (t) => {
  const bootstrapKey = 'operator-chosen-bootstrap-key-0123456789';
  const h = await startAdmin(t, { apiKeys: { bootstrapKey } });
  t.equal((await h.json('GET', '/v1/identities')).status, 200, 'it works as given');
  await t.rejects(readFile(path.join(h.dataDir, 'admin-key')), { code: 'ENOENT' }, 'no key file is written');
  const keys = (await h.json<{ keys: { name: string }[] }>('GET', '/v1/api-keys')).body.keys;
  t.same(
    keys.map((k) => k.name),
    ['bootstrap'],
  );
  const stored = Buffer.concat([
    await readFile(path.join(h.dataDir, 'splatcast.db')),
    await readFile(path.join(h.dataDir, 'splatcast.db-wal')).catch(() => Buffer.alloc(0)),
  ]);
  t.notOk(stored.includes(bootstrapKey), 'stored hashed');
});
