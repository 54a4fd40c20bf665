// What container an upload really is, from its bytes, and whether its structure is sound: an ISO BMFF file (MP4,
// MOV) must be nothing but well-formed top-level boxes that tile it exactly, a Matroska/WebM file one EBML header
// and one Segment that ends where the file ends. Data before, between or after those (a script, an archive, a
// second format sharing the file) rejects it, as do markup or archive signatures in the header bytes: polyglots.
import { open } from 'node:fs/promises';
import { UploadRejected } from './upload-error.js';

export type Container = 'mp4' | 'matroska';

/** File name extensions accepted per container (lower case, with the dot). */
export const EXTENSIONS: Record<Container, string[]> = {
  mp4: ['.mp4', '.m4v', '.mov'],
  matroska: ['.webm', '.mkv'],
};

/** Top-level ISO BMFF boxes a video file may hold (ISO/IEC 14496-12, QuickTime). */
const TOP_LEVEL_BOXES = new Set([
  'ftyp',
  'moov',
  'mdat',
  'free',
  'skip',
  'wide',
  'uuid',
  'meta',
  'pdin',
  'moof',
  'mfra',
  'styp',
  'sidx',
  'ssix',
  'prft',
  'emsg',
]);

/** Signatures of other formats that have no business in a video's first bytes. */
const FOREIGN = ['<html', '<script', '<?php', '<?xml', '<svg', '<!doctype', '%pdf-', 'pk\x03\x04', '#!/', '<body'];

export interface ContainerReport {
  container: Container;
  /** Size of the `moov` box (MP4) or of the EBML header (Matroska). */
  headerBytes: number;
}

export interface ContainerLimits {
  maxHeaderBytes: number;
}

async function readAt(handle: Awaited<ReturnType<typeof open>>, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** Which container the bytes say, or a rejection naming what the file looks like instead. */
export function sniff(head: Buffer): Container {
  if (head.length === 0) throw new UploadRejected('bad-media', 'the file is empty (0 bytes)');
  if (head.length >= 8 && TOP_LEVEL_BOXES.has(head.subarray(4, 8).toString('latin1'))) return 'mp4';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'matroska';
  const text = head.subarray(0, 64).toString('latin1').toLowerCase();
  const looks = FOREIGN.find((sig) => text.includes(sig));
  throw new UploadRejected(
    'bad-type',
    `not an MP4, MOV, WebM or Matroska video${looks ? ` (it starts like ${JSON.stringify(looks.trim())} content)` : ''}`,
  );
}

/** Checks the file name's extension agrees with the bytes. */
export function checkExtension(fileName: string, container: Container): void {
  const dot = fileName.lastIndexOf('.');
  const ext = dot >= 0 ? fileName.slice(dot).toLowerCase() : '';
  if (EXTENSIONS[container].includes(ext)) return;
  const known = Object.entries(EXTENSIONS).find(([, list]) => list.includes(ext))?.[0];
  throw new UploadRejected(
    'bad-type',
    known
      ? `the file is named ${ext} but its content is ${container === 'mp4' ? 'MP4/MOV' : 'Matroska/WebM'}: wrong extension`
      : `the extension ${JSON.stringify(ext || '(none)')} is not one of ${Object.values(EXTENSIONS).flat().join(', ')}`,
  );
}

/** Structural check of the whole file (reads only box headers, never the media data). */
export async function inspectContainer(file: string, limits: ContainerLimits): Promise<ContainerReport> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = await readAt(handle, 0, 4096);
    const container = sniff(head);
    const lower = head.toString('latin1').toLowerCase();
    const foreign = FOREIGN.find((sig) => lower.includes(sig));
    if (foreign)
      throw new UploadRejected(
        'bad-content',
        `the header holds ${JSON.stringify(foreign.trim())}: a file that is also another format (polyglot) is refused`,
      );
    await rejectTrailingZip(handle, size);
    const headerBytes =
      container === 'mp4' ? await walkBoxes(handle, size, limits) : await walkEbml(handle, size, limits);
    return { container, headerBytes };
  } finally {
    await handle.close();
  }
}

async function walkBoxes(
  handle: Awaited<ReturnType<typeof open>>,
  size: number,
  limits: ContainerLimits,
): Promise<number> {
  let at = 0;
  let moov = 0;
  let boxes = 0;
  while (at < size) {
    if (++boxes > 10_000) throw new UploadRejected('bad-media', 'more than 10000 top-level boxes: not a video file');
    const header = await readAt(handle, at, 16);
    if (header.length < 8)
      throw new UploadRejected('bad-media', `truncated: ${size - at} stray bytes after the last box at offset ${at}`);
    const type = header.subarray(4, 8).toString('latin1');
    let boxSize = header.readUInt32BE(0);
    if (boxSize === 1) {
      if (header.length < 16) throw new UploadRejected('bad-media', `truncated: box "${type}" header cut at ${at}`);
      const large = header.readBigUInt64BE(8);
      if (large > BigInt(Number.MAX_SAFE_INTEGER))
        throw new UploadRejected('bad-media', `box "${type}" at ${at} claims ${large} bytes`);
      boxSize = Number(large);
    } else if (boxSize === 0) boxSize = size - at;
    if (!TOP_LEVEL_BOXES.has(type))
      throw new UploadRejected(
        'bad-content',
        `unexpected data at offset ${at} (${JSON.stringify(type)} is not an MP4 box): the file carries something else`,
      );
    if (boxSize < 8) throw new UploadRejected('bad-media', `box "${type}" at ${at} has an impossible size ${boxSize}`);
    if (at + boxSize > size)
      throw new UploadRejected(
        'bad-media',
        `truncated: box "${type}" at ${at} needs ${boxSize} bytes but the file ends ${size - at} bytes after it starts`,
      );
    if (type === 'moov') {
      if (boxSize > limits.maxHeaderBytes)
        throw new UploadRejected(
          'bad-media',
          `the MP4 header (moov box) is ${(boxSize / 2 ** 20).toFixed(1)} MiB; the limit is ` +
            `${(limits.maxHeaderBytes / 2 ** 20).toFixed(1)} MiB`,
        );
      moov += boxSize;
    }
    at += boxSize;
  }
  if (moov === 0) throw new UploadRejected('bad-media', 'truncated or incomplete: the MP4 has no moov box (header)');
  return moov;
}

/** An EBML variable-length integer at `buffer[at]`: its length in bytes and value (null: "unknown"). */
function vint(buffer: Buffer, at: number, keepMarker: boolean): { length: number; value: number | null } | undefined {
  const first = buffer[at];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (at + length > buffer.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const b = buffer[at + i] as number;
    value = value * 256 + b;
    allOnes &&= b === 0xff;
  }
  return { length, value: !keepMarker && allOnes ? null : value };
}

async function walkEbml(
  handle: Awaited<ReturnType<typeof open>>,
  size: number,
  limits: ContainerLimits,
): Promise<number> {
  let at = 0;
  let headerBytes = 0;
  for (const expected of [0x1a45dfa3, 0x18538067]) {
    const buffer = await readAt(handle, at, 16);
    const id = vint(buffer, 0, true);
    const length = id && vint(buffer, id.length, false);
    if (!id || !length) throw new UploadRejected('bad-media', `truncated: Matroska element header cut at ${at}`);
    if (id.value !== expected)
      throw new UploadRejected(
        'bad-content',
        `unexpected element 0x${(id.value ?? 0).toString(16)} at offset ${at} in a Matroska file`,
      );
    const start = at + id.length + length.length;
    if (length.value === null) {
      if (expected !== 0x18538067) throw new UploadRejected('bad-media', 'the EBML header has an unknown size');
      return headerBytes; // a live-recorded Segment: it runs to the end of the file by definition
    }
    if (expected === 0x1a45dfa3) {
      headerBytes = start - at + length.value;
      if (headerBytes > limits.maxHeaderBytes)
        throw new UploadRejected('bad-media', 'the EBML header is absurdly large');
    }
    if (start + length.value > size)
      throw new UploadRejected(
        'bad-media',
        `truncated: the Matroska ${expected === 0x1a45dfa3 ? 'header' : 'Segment'} runs past the end of the file`,
      );
    at = start + length.value;
  }
  if (at !== size)
    throw new UploadRejected(
      'bad-content',
      `${size - at} bytes after the end of the Matroska Segment: the file carries something else`,
    );
  return headerBytes;
}

/** A ZIP end-of-central-directory record that ends exactly at the end of the file makes it a ZIP as well. */
async function rejectTrailingZip(handle: Awaited<ReturnType<typeof open>>, size: number): Promise<void> {
  const span = Math.min(size, 65_557);
  const tail = await readAt(handle, size - span, span);
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === 0x06054b50 && i + 22 + tail.readUInt16LE(i + 20) === tail.length)
      throw new UploadRejected('bad-content', 'the file ends with a ZIP archive directory: a polyglot file is refused');
}
