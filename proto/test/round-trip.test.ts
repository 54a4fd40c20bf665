import { create, equals } from '@bufbuild/protobuf';
import t from 'tap';
import {
  ClientMessageSchema,
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  encodeServerMessage,
  ServerMessageSchema,
} from '../src/index.js';
import { clientExamples, serverExamples } from './fixtures.js';

const oneofCases = (schema: typeof ClientMessageSchema | typeof ServerMessageSchema) =>
  schema.oneofs.flatMap((oneof) => oneof.fields.map((field) => field.localName)).sort();

t.test('fixtures cover every payload case of both envelopes', async (t) => {
  t.same(Object.keys(clientExamples).sort(), oneofCases(ClientMessageSchema));
  t.same(Object.keys(serverExamples).sort(), oneofCases(ServerMessageSchema));
});

t.test('every client message round-trips', async (t) => {
  for (const [name, init] of Object.entries(clientExamples)) {
    const encoded = encodeClientMessage(init);
    if (encoded.kind !== 'bytes') {
      t.fail(`${name}: ${encoded.error.message}`);
      continue;
    }
    const decoded = decodeClientMessage(encoded.bytes);
    t.equal(decoded.kind, 'message', name);
    if (decoded.kind === 'message') {
      t.equal(decoded.message.payload.case, name);
      t.ok(equals(ClientMessageSchema, decoded.message, create(ClientMessageSchema, init)), `${name} unchanged`);
    }
  }
});

t.test('every server message round-trips', async (t) => {
  for (const [name, init] of Object.entries(serverExamples)) {
    const encoded = encodeServerMessage(init);
    if (encoded.kind !== 'bytes') {
      t.fail(`${name}: ${encoded.error.message}`);
      continue;
    }
    const decoded = decodeServerMessage(encoded.bytes.slice().buffer);
    t.equal(decoded.kind, 'message', name);
    if (decoded.kind === 'message') {
      t.equal(decoded.message.payload.case, name);
      t.ok(equals(ServerMessageSchema, decoded.message, create(ServerMessageSchema, init)), `${name} unchanged`);
    }
  }
});

t.test('mediasoup JSON survives byte for byte, including numbers beyond int32', async (t) => {
  const encoded = encodeClientMessage(clientExamples.produce);
  t.equal(encoded.kind, 'bytes');
  if (encoded.kind !== 'bytes') return;
  const decoded = decodeClientMessage(encoded.bytes);
  if (decoded.kind !== 'message' || decoded.message.payload.case !== 'produce') return t.fail('not a produce');
  const rtp = JSON.parse(decoded.message.payload.value.rtpParametersJson);
  t.equal(rtp.encodings[0].ssrc, 4294967295);
});
