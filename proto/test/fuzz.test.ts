import { create, equals } from '@bufbuild/protobuf';
import t from 'tap';
import {
  ClientMessageSchema,
  type Decoded,
  decodeClientMessage,
  decodeServerMessage,
  ErrorCode,
  encodeClientMessage,
  encodeServerMessage,
  ServerMessageSchema,
} from '../src/index.js';
import { clientExamples, serverExamples } from './fixtures.js';

// Deterministic (mulberry32), so a failure reproduces.
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(0x5eed);
const int = (n: number) => Math.floor(random() * n);

function randomBytes(): Uint8Array {
  const bytes = new Uint8Array(int(300));
  for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
  return bytes;
}

/** A valid encoding with a few bytes overwritten, inserted or removed. */
function mutate(valid: Uint8Array): Uint8Array {
  const bytes = [...valid];
  for (let edits = 1 + int(4); edits > 0; edits--) {
    const at = int(bytes.length + 1);
    const op = int(3);
    if (op === 0 && at < bytes.length) bytes[at] = int(256);
    else if (op === 1) bytes.splice(at, 0, int(256));
    else bytes.splice(at, 1);
  }
  return new Uint8Array(bytes);
}

const refusals = new Set([
  ErrorCode.MALFORMED_MESSAGE,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.INVALID_ARGUMENT,
  ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
]);

const sides = {
  client: {
    decode: decodeClientMessage,
    reencode: (d: Decoded<{ $typeName: string }>) => d.kind === 'message' && encodeClientMessage(d.message as never),
    equal: (a: unknown, b: unknown) => equals(ClientMessageSchema, a as never, b as never),
    valid: Object.values(clientExamples).map((m) => create(ClientMessageSchema, m)),
    encode: (m: unknown) => encodeClientMessage(m as never),
  },
  server: {
    decode: decodeServerMessage,
    reencode: (d: Decoded<{ $typeName: string }>) => d.kind === 'message' && encodeServerMessage(d.message as never),
    equal: (a: unknown, b: unknown) => equals(ServerMessageSchema, a as never, b as never),
    valid: Object.values(serverExamples).map((m) => create(ServerMessageSchema, m)),
    encode: (m: unknown) => encodeServerMessage(m as never),
  },
};

for (const [name, side] of Object.entries(sides)) {
  t.test(`${name} decoder: random and mutated bytes never throw and give typed results`, async (t) => {
    const valid = side.valid.map((m) => {
      const encoded = side.encode(m);
      if (encoded.kind !== 'bytes') throw new Error(encoded.error.message);
      return encoded.bytes;
    });
    const counts = { message: 0, unknown: 0, error: 0 };
    for (let i = 0; i < 6000; i++) {
      const input = i % 2 === 0 ? randomBytes() : mutate(valid[int(valid.length)] ?? new Uint8Array());
      let decoded: Decoded<{ $typeName: string }>;
      try {
        decoded = side.decode(input);
      } catch (cause) {
        t.fail(`threw on [${input.join(',')}]: ${String(cause)}`);
        continue;
      }
      counts[decoded.kind]++;
      if (decoded.kind === 'error' && (!refusals.has(decoded.error.code) || decoded.error.message === '')) {
        t.fail(`untyped refusal of [${input.join(',')}]: ${JSON.stringify(decoded.error)}`);
      }
      if (decoded.kind === 'message') {
        // Whatever passes validation must encode again and decode to the same message.
        const again = side.reencode(decoded);
        const redecoded = again && again.kind === 'bytes' ? side.decode(again.bytes) : undefined;
        if (redecoded?.kind !== 'message' || !side.equal(redecoded.message, decoded.message)) {
          t.fail(`accepted [${input.join(',')}] but could not re-encode it`);
        }
      }
    }
    t.comment(`results: ${JSON.stringify(counts)}`);
    t.ok(counts.message > 0 && counts.error > 0 && counts.unknown > 0, 'every outcome was exercised');
  });
}
