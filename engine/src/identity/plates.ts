// plates.bin: the torso-over-background plates, [height, width, 3] u8 RGB each, every plate deflated on its own
// (node:zlib, so loading needs no ffmpeg and no npm package; per-plate streams inflate in parallel on libuv's pool).
//
// Layout (little-endian): "SCPLATE1" | u32 count | u32 width | u32 height | u32 channels (3)
//                         | u32 compressed byte length of each plate | the zlib streams (RFC 1950, with Adler-32).
import { promisify } from 'node:util';
import { deflate, inflate } from 'node:zlib';

const MAGIC = 'SCPLATE1';
const FIXED_HEADER = 8 + 4 * 4;
const deflateAsync = promisify(deflate);
const inflateAsync = promisify(inflate);

export class PlatesError extends Error {
  override name = 'PlatesError';
}

export async function encodePlates(plates: readonly Uint8Array[], width: number, height: number): Promise<Uint8Array> {
  const size = width * height * 3;
  plates.forEach((p, i) => {
    if (p.length !== size)
      throw new PlatesError(`plate ${i} has ${p.length} bytes, expected ${height} x ${width} x 3 = ${size}`);
  });
  const streams = await Promise.all(plates.map((p) => deflateAsync(p, { level: 6 })));
  const header = Buffer.alloc(FIXED_HEADER + 4 * plates.length);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(plates.length, 8);
  header.writeUInt32LE(width, 12);
  header.writeUInt32LE(height, 16);
  header.writeUInt32LE(3, 20);
  streams.forEach((s, i) => {
    header.writeUInt32LE(s.byteLength, FIXED_HEADER + 4 * i);
  });
  return Buffer.concat([header, ...streams]);
}

/** Decodes and validates plates.bin against the count and size the manifest declares. */
export async function decodePlates(
  file: Uint8Array,
  expected: { count: number; width: number; height: number },
): Promise<Uint8Array[]> {
  const fail = (problem: string): never => {
    throw new PlatesError(problem);
  };
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.byteLength < FIXED_HEADER)
    fail(`file is ${buf.byteLength} bytes, shorter than its ${FIXED_HEADER}-byte header`);
  if (buf.toString('latin1', 0, 8) !== MAGIC) fail(`does not start with "${MAGIC}"`);
  const [count, width, height, channels] = [8, 12, 16, 20].map((at) => buf.readUInt32LE(at)) as number[];
  if (channels !== 3) fail(`has ${channels} channels per pixel, expected 3 (RGB)`);
  if (count !== expected.count) fail(`holds ${count} plates, the manifest says ${expected.count}`);
  if (width !== expected.width || height !== expected.height)
    fail(`plates are ${width}x${height}, the manifest's render size is ${expected.width}x${expected.height}`);
  const tableEnd = FIXED_HEADER + 4 * (count as number);
  if (buf.byteLength < tableEnd) fail(`file is ${buf.byteLength} bytes, its plate table needs ${tableEnd}: truncated`);
  const ranges: [number, number][] = [];
  let at = tableEnd;
  for (let i = 0; i < (count as number); i++) {
    const length = buf.readUInt32LE(FIXED_HEADER + 4 * i);
    ranges.push([at, at + length]);
    at += length;
  }
  if (at !== buf.byteLength)
    fail(
      `plate streams total ${at} bytes but the file has ${buf.byteLength}${at > buf.byteLength ? ': truncated' : ''}`,
    );
  const size = (width as number) * (height as number) * 3;
  return Promise.all(
    ranges.map(async ([begin, end], i) => {
      let plate: Buffer;
      try {
        // One byte over the expected size is enough to tell "too large" without inflating a bomb.
        plate = await inflateAsync(buf.subarray(begin, end), { maxOutputLength: size + 1 });
      } catch (e) {
        return fail(`plate ${i} does not inflate (${(e as Error).message})`);
      }
      if (plate.byteLength !== size) fail(`plate ${i} inflates to ${plate.byteLength} bytes, expected ${size}`);
      return new Uint8Array(plate.buffer, plate.byteOffset, plate.byteLength);
    }),
  );
}
