// Keeps ERRORS.md, the .proto comments and the TypeScript tables in step.
import { readFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import t from 'tap';
import {
  CLOSE_CODE_BASE,
  CloseReason,
  closeAction,
  closeCodeForError,
  codecLimitsFromServer,
  ErrorCode,
  errorAction,
  errorForCloseCode,
  isRequestCase,
  isResponseCase,
  MIN_PROTOCOL_VERSION,
  negotiateProtocolVersion,
  PROTOCOL_VERSION,
  RESPONSE_CASE,
  ServerLimitsSchema,
} from '../src/index.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

/** Rows `| code | `NAME` | meaning | `action`... |` under the heading `## title`. */
function table(title: string): { code: number; name: string; action: string }[] {
  const section = read('ERRORS.md').split(`## ${title}`)[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| (\d+) \| `(\w+)` \| .* \| `?([\w-]+)`?[^|]*\|$/gm)].map((m) => ({
    code: Number(m[1]),
    name: m[2] ?? '',
    action: m[3] ?? '',
  }));
}

function enumEntries(e: Record<string, string | number>): { code: number; name: string }[] {
  return Object.entries(e)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && entry[1] !== 0)
    .map(([name, code]) => ({ code, name }));
}

t.test('ERRORS.md lists every error code with its number and action', async (t) => {
  const rows = table('Error codes');
  t.same(
    rows.map(({ code, name }) => ({ code, name })),
    enumEntries(ErrorCode),
  );
  for (const row of rows) t.equal(row.action, errorAction(row.code), row.name);
});

t.test('ERRORS.md lists every close reason with its action', async (t) => {
  const rows = table('Close reasons');
  t.same(
    rows.map(({ code, name }) => ({ code, name })),
    enumEntries(CloseReason),
  );
  for (const row of rows.filter((r) => r.code !== CloseReason.ERROR))
    t.equal(row.action, closeAction(row.code), row.name);
  t.equal(closeAction(CloseReason.ERROR, ErrorCode.UNAUTHENTICATED), 'new-token');
});

t.test('codes a newer server adds are treated as give-up', async (t) => {
  t.equal(errorAction(999 as ErrorCode), 'give-up');
  t.equal(closeAction(99 as CloseReason), 'give-up');
  t.equal(closeAction(CloseReason.ERROR), 'give-up');
});

t.test('WebSocket close codes carry the error code', async (t) => {
  for (const { code } of enumEntries(ErrorCode)) t.equal(errorForCloseCode(closeCodeForError(code)), code);
  t.equal(closeCodeForError(ErrorCode.UNAUTHENTICATED), 4010);
  for (const normal of [1000, 1001, 1006, CLOSE_CODE_BASE, 5000]) t.equal(errorForCloseCode(normal), undefined);
});

t.test('the request/response table matches the comments in envelope.proto', async (t) => {
  const envelope = read('splatcast/v1/envelope.proto');
  const client = envelope.split('message ServerMessage')[0] ?? '';
  const camel = (s: string) => s.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase());
  const documented = Object.fromEntries(
    [...client.matchAll(/^\s+\w+ (\w+) = \d+; \/\/ -> (\w+)$/gm)].map((m) => [camel(m[1] ?? ''), camel(m[2] ?? '')]),
  );
  t.same(documented, RESPONSE_CASE);
  t.ok(isRequestCase('hello'));
  t.notOk(isRequestCase('pcmChunk'));
  t.notOk(isRequestCase('toString'));
  t.ok(isResponseCase('ack'));
  t.notOk(isResponseCase('error'));
});

t.test('version negotiation follows the compatibility rule', async (t) => {
  t.same(negotiateProtocolVersion(PROTOCOL_VERSION), { ok: true, version: PROTOCOL_VERSION });
  t.same(negotiateProtocolVersion(PROTOCOL_VERSION + 5), { ok: true, version: PROTOCOL_VERSION }, 'newer peer: ours');
  t.same(negotiateProtocolVersion(3, 5, 2), { ok: true, version: 3 }, 'older peer: theirs');
  for (const bad of [0, MIN_PROTOCOL_VERSION - 1, 1.5, Number.NaN]) {
    t.match(negotiateProtocolVersion(bad), { ok: false, failure: { code: ErrorCode.UNSUPPORTED_PROTOCOL_VERSION } });
  }
});

t.test('codec limits from Welcome keep only the sample rates both sides know', async (t) => {
  const limits = create(ServerLimitsSchema, {
    maxMessageBytes: 1000,
    maxPcmChunkBytes: 640,
    pcmSampleRates: [8000, 16000],
  });
  t.same(codecLimitsFromServer(limits), { maxMessageBytes: 1000, maxPcmChunkBytes: 640, pcmSampleRates: [16000] });
});
