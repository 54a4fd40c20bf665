// Fuzzing the admin API and the token endpoint with fast-check: 10,000 generated requests (random and mutated
// routes, ids, query strings, headers, JSON and multipart bodies), through fastify's full request pipeline
// (app.inject: routing, auth, validation, handlers, error handler), plus raw malformed HTTP over a real socket.
// No request may crash the server or get a 5xx without an error log line carrying its request id.
import net from 'node:net';
import fc from 'fast-check';
import t from 'tap';
import { CONSENT, startAdmin } from './helpers.js';

const ROUTES = [
  ['GET', '/v1/identities'],
  ['POST', '/v1/identities'],
  ['GET', '/v1/identities/{idn}'],
  ['PATCH', '/v1/identities/{idn}'],
  ['DELETE', '/v1/identities/{idn}'],
  ['GET', '/v1/identities/{idn}/consent/evidence'],
  ['POST', '/v1/jobs'],
  ['GET', '/v1/jobs'],
  ['GET', '/v1/jobs/{job}'],
  ['GET', '/v1/jobs/{job}/logs'],
  ['POST', '/v1/jobs/{job}/cancel'],
  ['POST', '/v1/jobs/{job}/retry'],
  ['GET', '/v1/priors'],
  ['GET', '/v1/priors/{pri}'],
  ['POST', '/v1/priors/{pri}/default'],
  ['DELETE', '/v1/priors/{pri}'],
  ['GET', '/v1/sessions'],
  ['DELETE', '/v1/sessions/{any}'],
  ['POST', '/v1/tokens'],
  ['GET', '/v1/api-keys'],
  ['POST', '/v1/api-keys'],
  ['POST', '/v1/api-keys/{key}/rotate'],
  ['POST', '/v1/uploads'],
  ['HEAD', '/v1/uploads/{upl}'],
  ['PATCH', '/v1/uploads/{upl}'],
  ['DELETE', '/v1/uploads/{upl}'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
] as const;

const hex20 = fc.stringMatching(/^[0-9a-f]{20}$/);
const weird = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('..', '../../etc/passwd', '%2e%2e%2f', '%00', 'a'.repeat(300), '\u202e', 'idn_', '{}', 'null'),
);
const segment = (prefix: string) =>
  fc.oneof(
    hex20.map((h) => `${prefix}_${h}`),
    weird.map((w) => encodeURIComponent(w)),
    fc.constant(`${prefix}_00000000000000000000`),
  );

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const tokenBody = (ready: string) =>
  fc.record(
    {
      identityId: fc.oneof(
        fc.constant(ready),
        hex20.map((h) => `idn_${h}`),
        weird,
        fc.integer(),
      ),
      capabilities: fc.oneof(
        fc.array(fc.oneof(fc.constantFrom('session', 'audio', 'interrupt'), weird), { maxLength: 5 }),
        jsonValue,
      ),
      ttlSeconds: fc.oneof(fc.integer(), fc.double(), weird, fc.constant(1e308)),
      subject: fc.oneof(weird, fc.string({ minLength: 1, maxLength: 20 })),
    },
    { requiredKeys: [] },
  );
const jobBody = (ready: string) =>
  fc.record(
    {
      kind: fc.oneof(fc.constantFrom('adaptation', 'pretraining'), weird),
      identityId: fc.oneof(fc.constant(ready), weird),
      identityIds: fc.oneof(fc.array(fc.oneof(fc.constant(ready), weird), { maxLength: 3 }), jsonValue),
      priority: fc.oneof(fc.integer({ min: -200, max: 200 }), weird),
      device: fc.oneof(fc.constantFrom('auto', 'cpu', 'cuda'), weird),
      settings: fc.oneof(
        fc.record({ iterations: fc.integer(), size: fc.integer(), maxSeconds: fc.double() }, { requiredKeys: [] }),
        jsonValue,
      ),
      timeoutSeconds: fc.oneof(fc.integer(), weird),
    },
    { requiredKeys: [] },
  );

function multipart(fields: [string, string, string | undefined][]): { body: Buffer; type: string } {
  const boundary = 'fuzzboundary';
  const parts = fields.map(
    ([name, value, file]) =>
      `--${boundary}\r\ncontent-disposition: form-data; name="${name}"${file !== undefined ? `; filename="${file}"` : ''}\r\n\r\n${value}\r\n`,
  );
  return {
    body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`, 'latin1'),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

t.test('10,000 fuzzed requests: no crash, no unexplained 5xx', async (t) => {
  const h = await startAdmin(t, { uploads: { faceScreen: false } }, { slots: [{ device: 'cpu', concurrency: 0 }] });
  const app = h.server.app;
  // One identity in the catalog, made ready by hand, so token and job requests reach their deeper checks.
  const ctx = h.server.context;
  const ready = 'idn_0123456789abcdef0123';
  ctx.catalog.create({
    id: ready,
    name: 'fuzz',
    source: {
      fileName: 'x.mp4',
      bytes: 1,
      sha256: '0'.repeat(64),
      container: 'mp4',
      videoCodec: 'h264',
      audioCodec: 'aac',
      width: 64,
      height: 64,
      fps: 25,
      durationSeconds: 5,
    },
    consent: { ...CONSENT, evidence: { fileName: 'e.txt', bytes: 1, sha256: '0'.repeat(64), mediaType: 'text/plain' } },
  });
  ctx.catalog.update(ready, { state: 'ready' });

  const auth = fc.oneof(
    { weight: 8, arbitrary: fc.constant(`Bearer ${h.key}`) },
    { weight: 1, arbitrary: fc.oneof(weird, fc.constant(`Bearer ${h.key.slice(0, -1)}A`), fc.constant('Bearer ')) },
  );
  const request = fc.oneof(
    // Any route, fuzzed path parameters, query strings and JSON bodies.
    fc.record({
      route: fc.constantFrom(...ROUTES),
      ids: fc.record({
        idn: segment('idn'),
        job: segment('job'),
        pri: segment('pri'),
        key: segment('key'),
        upl: segment('upl'),
        any: segment('s'),
      }),
      query: fc.dictionary(fc.constantFrom('state', 'kind', 'limit', 'offset', 'after', 'identityId', 'x'), weird, {
        maxKeys: 3,
      }),
      body: fc.oneof(jsonValue, fc.string(), fc.constant(undefined)),
      contentType: fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/offset+octet-stream',
        undefined,
      ),
      tus: fc.record(
        {
          'tus-resumable': fc.oneof(fc.constant('1.0.0'), weird),
          'upload-length': fc.oneof(fc.integer({ min: -5, max: 2 ** 40 }).map(String), weird),
          'upload-offset': fc.oneof(fc.nat(100).map(String), weird),
          'upload-metadata': fc.oneof(fc.constant(`filename ${Buffer.from('a.mp4').toString('base64')}`), weird),
        },
        { requiredKeys: [] },
      ),
      auth,
    }),
    // The token endpoint with near-valid bodies, and with valid ones.
    fc.record({ route: fc.constant(['POST', '/v1/tokens'] as const), tokenBody: tokenBody(ready), auth }),
    fc.record({
      route: fc.constant(['POST', '/v1/tokens'] as const),
      tokenBody: fc.record(
        {
          identityId: fc.constant(ready),
          ttlSeconds: fc.integer({ min: 10, max: 3600 }),
          capabilities: fc.subarray(['session', 'audio', 'interrupt'], { minLength: 1 }),
          subject: fc.stringMatching(/^[a-z0-9-]{1,20}$/),
        },
        { requiredKeys: ['identityId'] },
      ),
      auth,
    }),
    // Job submission with near-valid bodies.
    fc.record({ route: fc.constant(['POST', '/v1/jobs'] as const), jobBody: jobBody(ready), auth }),
    // Multipart uploads with fuzzed fields and file contents.
    fc.record({
      route: fc.constant(['POST', '/v1/identities'] as const),
      parts: fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom('name', 'consent', 'video', 'evidence'), weird),
          fc.oneof(
            fc.string({ maxLength: 200 }),
            jsonValue.map((v) => JSON.stringify(v)),
            fc.constant(JSON.stringify(CONSENT)),
          ),
          fc.option(fc.oneof(fc.constantFrom('a.mp4', 'b.webm', 'c.txt', '../../x.mp4'), weird), { nil: undefined }),
        ),
        { maxLength: 5 },
      ),
      auth,
    }),
  );

  const statuses = new Map<number, number>();
  let unexplained = 0;
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const [method, template] = r.route;
      let url: string = template;
      if ('ids' in r) for (const [k, v] of Object.entries(r.ids)) url = url.replace(`{${k}}`, v);
      else url = url.replace(/\{(\w+)\}/g, 'x');
      const headers: Record<string, string> = { authorization: r.auth, ...('tus' in r ? r.tus : {}) };
      let payload: string | Buffer | undefined;
      if ('query' in r && Object.keys(r.query).length) url += `?${new URLSearchParams(r.query)}`;
      if ('body' in r && r.body !== undefined && method !== 'GET' && method !== 'DELETE') {
        payload = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        if (r.contentType) headers['content-type'] = r.contentType;
      }
      if ('tokenBody' in r) [payload, headers['content-type']] = [JSON.stringify(r.tokenBody), 'application/json'];
      if ('jobBody' in r) [payload, headers['content-type']] = [JSON.stringify(r.jobBody), 'application/json'];
      if ('parts' in r) {
        const m = multipart(r.parts);
        [payload, headers['content-type']] = [m.body, m.type];
      }
      // A request that never gets an answer is a failure too (a hijacked reply left hanging, say).
      const response = await Promise.race([
        app.inject({ method, url, headers, payload }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no answer in 10 s: ${method} ${url}`)), 10_000).unref(),
        ),
      ]);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode >= 500) {
        const id = response.headers['x-request-id'];
        const logged = h.logs.some((l) => l.reqId === id && (l.level as number) >= 50 && l.err);
        if (!logged) unexplained++;
        return logged;
      }
      return response.statusCode >= 200 && response.statusCode < 500;
    }),
    { numRuns: 10_000, seed: 20261203 },
  );
  t.equal(unexplained, 0, 'every 5xx has an error log line with its request id and cause');
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  t.ok(
    (statuses.get(401) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0 && (statuses.get(201) ?? 0) > 0,
    'the mix reached auth, validation and success',
  );
  t.equal((await h.json('GET', '/healthz')).status, 200, 'still healthy');
});

t.test('raw malformed HTTP over a socket: answered or closed, never a crash', async (t) => {
  const h = await startAdmin(t);
  const { port } = new URL(h.url);
  const samples = fc.sample(
    fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.constantFrom(
        'GET / HTTP/1.1\r\n\r\n',
        'POST /v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n\r\n{',
        'POST /v1/identities HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        `GET /v1/jobs HTTP/1.1\r\nHost: x\r\n${'X: y\r\n'.repeat(3000)}\r\n`,
        'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
        'BREW /coffee HTCPCP/1.0\r\n\r\n',
      ),
    ),
    { numRuns: 300, seed: 7 },
  );
  for (const raw of samples)
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.end(raw));
      socket.on('data', () => {});
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.setTimeout(2000, () => socket.destroy());
    });
  t.equal((await h.json('GET', '/healthz')).status, 200, 'the server still answers');
  t.notOk(
    h.logs.some((l) => (l.level as number) >= 50),
    'no error was logged',
  );
});
