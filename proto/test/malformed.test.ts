import t from 'tap';
import {
  DEFAULT_CODEC_LIMITS,
  decodeClientMessage,
  decodeServerMessage,
  ErrorCode,
  encodeClientMessage,
  encodeServerMessage,
} from '../src/index.js';
import { clientExamples, serverExamples } from './fixtures.js';

const { MALFORMED_MESSAGE, MESSAGE_TOO_LARGE } = ErrorCode;
const decoders = { client: decodeClientMessage, server: decodeServerMessage };

function bytesOf(encoded: ReturnType<typeof encodeClientMessage>): Uint8Array {
  if (encoded.kind !== 'bytes') throw new Error(encoded.error.message);
  return encoded.bytes;
}

t.test('an empty frame, or one with only a request id, has no payload', async (t) => {
  for (const [side, decode] of Object.entries(decoders)) {
    t.match(
      decode(new Uint8Array(0)),
      { kind: 'error', error: { code: MALFORMED_MESSAGE, requestId: 0, message: /no payload/ } },
      side,
    );
    t.match(
      decode(new Uint8Array([0x08, 0x05])),
      { kind: 'error', error: { code: MALFORMED_MESSAGE, requestId: 5 } },
      side,
    );
  }
});

t.test('an unknown payload case is reported as unknown, with its request id and field number', async (t) => {
  // request_id = 7, then field 99 (length-delimited, 2 bytes): a case a newer peer might send.
  const future = new Uint8Array([0x08, 0x07, 0x9a, 0x06, 0x02, 0x08, 0x01]);
  for (const [side, decode] of Object.entries(decoders)) {
    t.same(decode(future), { kind: 'unknown', requestId: 7, fieldNumbers: [99] }, side);
  }
});

t.test('unknown fields next to a known payload are ignored (forward compatible)', async (t) => {
  const ping = bytesOf(encodeClientMessage(clientExamples.ping));
  const withExtra = new Uint8Array([...ping, 0x98, 0x06, 0x01]); // field 99, varint 1
  t.match(decodeClientMessage(withExtra), { kind: 'message', message: { payload: { case: 'ping' } } });
});

t.test('every truncation of every message is a typed error', async (t) => {
  const encodings = [
    ...Object.values(clientExamples).map((m) => ['client', bytesOf(encodeClientMessage(m))] as const),
    ...Object.values(serverExamples).map((m) => ['server', bytesOf(encodeServerMessage(m))] as const),
  ];
  let checked = 0;
  for (const [side, bytes] of encodings) {
    for (let length = 0; length < bytes.length; length++) {
      const decoded = decoders[side](bytes.subarray(0, length));
      if (decoded.kind !== 'error' || decoded.error.code !== MALFORMED_MESSAGE) {
        t.fail(`${side} message cut to ${length} of ${bytes.length} bytes gave ${JSON.stringify(decoded)}`);
      }
      checked++;
    }
  }
  t.ok(checked > 1000, `${checked} truncations`);
});

t.test('bytes that do not parse are a typed error', async (t) => {
  const cases: [string, number[]][] = [
    ['a payload with the wrong wire type', [0x50, 0x01]],
    ['a length past the end', [0x52, 0x7f, 0x00]],
    ['a varint that never ends', [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
    ['field number 0', [0x00, 0x01]],
    ['invalid UTF-8 in a string', [0x52, 0x04, 0x12, 0x02, 0xc3, 0x28]],
    ['an end-group tag with no start', [0x0c]],
  ];
  for (const [what, bytes] of cases) {
    t.match(decodeClientMessage(new Uint8Array(bytes)), { kind: 'error', error: { code: MALFORMED_MESSAGE } }, what);
  }
});

t.test('deeply nested groups hit the recursion limit instead of the stack', async (t) => {
  const depth = 50_000;
  const nested = new Uint8Array(depth * 2);
  for (let i = 0; i < depth; i++) nested.set([0x9b, 0x06], i * 2); // start group, field 99
  t.match(decodeClientMessage(nested, { ...DEFAULT_CODEC_LIMITS, maxMessageBytes: nested.length }), {
    kind: 'error',
    error: { code: MALFORMED_MESSAGE },
  });
});

t.test('oversized frames are refused before parsing', async (t) => {
  const limit = DEFAULT_CODEC_LIMITS.maxMessageBytes;
  const garbage = new Uint8Array(limit + 1).fill(0xff);
  for (const [side, decode] of Object.entries(decoders)) {
    t.match(decode(garbage), { kind: 'error', error: { code: MESSAGE_TOO_LARGE, requestId: 0 } }, side);
    // The same bytes within the limit reach the parser, which refuses them as malformed.
    t.match(decode(garbage.subarray(0, limit)), { kind: 'error', error: { code: MALFORMED_MESSAGE } }, side);
  }
  const small = { ...DEFAULT_CODEC_LIMITS, maxMessageBytes: 4 };
  const ping = bytesOf(encodeClientMessage(clientExamples.ping));
  t.match(decodeClientMessage(ping, small), { kind: 'error', error: { code: MESSAGE_TOO_LARGE } });
});

t.test('frames that are not binary are a typed error', async (t) => {
  for (const frame of ['{"hello":{}}', null, undefined, 42, [1, 2]]) {
    t.match(decodeClientMessage(frame as never), {
      kind: 'error',
      error: { code: MALFORMED_MESSAGE, message: /binary/ },
    });
  }
});

t.test('an ArrayBuffer or a Node Buffer decodes like a Uint8Array', async (t) => {
  const ping = bytesOf(encodeClientMessage(clientExamples.ping));
  t.equal(decodeClientMessage(ping.slice().buffer).kind, 'message');
  t.equal(decodeClientMessage(Buffer.from(ping)).kind, 'message');
});
