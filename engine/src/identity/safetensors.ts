// Reader and writer for the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?}),
// then the tensor bytes, offsets relative to the end of the header. Written here rather than taken from npm: there is
// no well-maintained npm package for it (the official project ships Rust and Python only), and the format is small
// enough that a reader which validates every field is shorter than auditing a third-party one.
//
// Compatibility with the official library: tensors are contiguous (no gaps, no overlap, the last one ends at the
// end of the file) and the header is padded with spaces so the data starts 8-byte aligned. Only the two dtypes the
// identity format uses are supported. Data is little-endian, as the host is (x86-64 and arm64).

export type SafetensorsDType = 'F32' | 'U8';

export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Uint8Array;
}

/** The official library's limit; a larger header is taken as corruption, not parsed. */
export const MAX_HEADER_BYTES = 100_000_000;
const ITEM_BYTES: Record<SafetensorsDType, number> = { F32: 4, U8: 1 };

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** Parses and validates a whole safetensors file. Tensor data is copied into fresh, aligned arrays. */
export function decodeSafetensors(file: Uint8Array): {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
} {
  const fail = (problem: string): never => {
    throw new SafetensorsError(problem);
  };
  if (file.byteLength < 8) fail(`file is ${file.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared < 2n || declared > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${declared} is out of bounds (expected 2..${MAX_HEADER_BYTES})`);
  const headerBytes = Number(declared);
  if (8 + headerBytes > file.byteLength)
    fail(`header length ${headerBytes} runs past the end of the file (${file.byteLength} bytes): truncated?`);
  const headerText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let header: unknown;
  try {
    header = JSON.parse(headerText.decode(file.subarray(8, 8 + headerBytes)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header JSON is not an object');
  const dataStart = 8 + headerBytes;
  const dataLength = file.byteLength - dataStart;

  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
        fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>))
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof info !== 'object' || info === null) fail(`tensor "${name}": header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (dtype !== 'F32' && dtype !== 'U8') fail(`tensor "${name}": unsupported dtype ${JSON.stringify(dtype)}`);
    if (!isShape(shape)) fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength)
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] lie outside the ${dataLength} data bytes (truncated?)`);
    const expected = elementCount(shape as number[]) * ITEM_BYTES[dtype as SafetensorsDType];
    if (end - begin !== expected)
      fail(
        `tensor "${name}": ${dtype} [${(shape as number[]).join(', ')}] needs ${expected} bytes, data_offsets give ${end - begin}`,
      );
    entries.push({ name, dtype: dtype as SafetensorsDType, shape: shape as number[], begin, end });
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of entries) {
    if (e.begin < covered) fail(`tensor "${e.name}" overlaps the previous tensor (begins at ${e.begin} < ${covered})`);
    if (e.begin > covered) fail(`tensor "${e.name}" leaves a gap of ${e.begin - covered} bytes before it`);
    covered = e.end;
  }
  if (covered !== dataLength) fail(`${dataLength - covered} bytes after the last tensor are not described`);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    // A copy (Buffer#slice would alias the file, and the file's offsets need not be 4-byte aligned).
    const bytes = new Uint8Array(e.end - e.begin);
    bytes.set(file.subarray(dataStart + e.begin, dataStart + e.end));
    const data = e.dtype === 'F32' ? new Float32Array(bytes.buffer, 0, bytes.byteLength / 4) : bytes;
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Serialises tensors (in the given order, F32 before U8 so every F32 tensor stays 4-byte aligned). */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const order = [...tensors.entries()].sort(
    ([, a], [, b]) => ITEM_BYTES[b.dtype] - ITEM_BYTES[a.dtype], // stable: F32 first, then U8
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of order) {
    if (name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved and cannot name a tensor');
    if (!isShape(t.shape)) throw new SafetensorsError(`tensor "${name}": shape [${t.shape}] is not a list of sizes`);
    const isF32 = t.data instanceof Float32Array;
    if (isF32 !== (t.dtype === 'F32'))
      throw new SafetensorsError(`tensor "${name}": dtype ${t.dtype} does not match its ${t.data.constructor.name}`);
    if (t.data.length !== elementCount(t.shape))
      throw new SafetensorsError(
        `tensor "${name}": shape [${t.shape.join(', ')}] needs ${elementCount(t.shape)} values, got ${t.data.length}`,
      );
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + jsonBytes) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const [, t] of order) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
