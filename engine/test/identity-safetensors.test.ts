import t from 'tap';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../src/identity/safetensors.js';

const tensors = new Map<string, SafetensorsTensor>([
  ['bytes', { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) }],
  ['weights', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, 7]) }],
  ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
]);

/** A file from a header object and data bytes, laid out by hand. */
function handMade(header: unknown, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  out.set(data, 8 + json.length);
  return out;
}

t.test('round trip with metadata, data 8-byte aligned, F32 first', async (t) => {
  const file = encodeSafetensors(tensors, { note: 'hi' });
  const headerLength = Number(Buffer.from(file).readBigUInt64LE(0));
  t.equal((8 + headerLength) % 8, 0, 'data starts 8-byte aligned');
  const header = JSON.parse(Buffer.from(file.subarray(8, 8 + headerLength)).toString());
  t.same(header.weights.data_offsets, [0, 24]);
  t.same(header.bytes.data_offsets, [24, 27]);
  const { tensors: back, metadata } = decodeSafetensors(file);
  t.same(metadata, { note: 'hi' });
  for (const [name, tensor] of tensors) t.same(back.get(name), tensor, name);
});

t.test('reads a file as the official library writes it (no padding, any order)', async (t) => {
  const data = Buffer.alloc(12);
  data.writeFloatLE(1.5, 4);
  data.writeFloatLE(-2, 8);
  const file = handMade(
    { b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] }, a: { dtype: 'U8', shape: [2, 2], data_offsets: [0, 4] } },
    data,
  );
  const { tensors } = decodeSafetensors(file);
  t.same(Array.from(tensors.get('b')?.data ?? []), [1.5, -2]);
  t.same(tensors.get('a')?.shape, [2, 2]);
});

const bad: [string, unknown, number, RegExp][] = [
  ['an array header', [1], 0, /header JSON is not an object/],
  ['an unsupported dtype', { x: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2, /unsupported dtype "F16"/],
  ['a bad shape', { x: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } }, 1, /shape \[-1\] is not a list/],
  ['bad offsets', { x: { dtype: 'U8', shape: [1], data_offsets: [0] } }, 1, /data_offsets \[0\] is not \[begin, end\]/],
  ['offsets past the data', { x: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, 2, /outside the 2 data bytes/],
  [
    'dtype and shape that disagree with the byte length',
    { x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } },
    4,
    /F32 \[2\] needs 8 bytes, data_offsets give 4/,
  ],
  [
    'overlapping tensors',
    { x: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, y: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } },
    3,
    /overlaps the previous tensor/,
  ],
  ['a gap', { x: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, 2, /leaves a gap of 1 bytes/],
  ['undescribed trailing bytes', { x: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, 3, /2 bytes after the last/],
  ['non-string metadata', { __metadata__: { a: 1 } }, 0, /__metadata__\.a is not a string/],
];
for (const [name, header, dataBytes, error] of bad)
  t.test(`rejects ${name}`, async (t) => {
    t.throws(() => decodeSafetensors(handMade(header, new Uint8Array(dataBytes))), error);
  });

t.test('rejects a header that is not UTF-8', async (t) => {
  const file = handMade({}, new Uint8Array(0));
  file[8] = 0xff;
  t.throws(() => decodeSafetensors(file), /header is not valid UTF-8 JSON/);
});

t.test('the writer refuses inconsistent tensors', async (t) => {
  t.throws(
    () => encodeSafetensors(new Map([['x', { dtype: 'F32', shape: [3], data: new Float32Array(2) }]])),
    /shape \[3\] needs 3 values, got 2/,
  );
  t.throws(
    () => encodeSafetensors(new Map([['x', { dtype: 'U8', shape: [2], data: new Float32Array(2) }]])),
    /dtype U8 does not match its Float32Array/,
  );
});
