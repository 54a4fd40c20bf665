// Receives an identity upload (multipart/form-data, streamed to disk part by part, never buffered whole): the
// `name` and `consent` fields, the `video` and `evidence` files. Each file lands in the upload's own folder under
// DataDir.incoming with a fixed name; the client's file name is kept for display and extension checks only. Sizes
// are enforced while the bytes arrive.
import { createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { UploadRejected } from './upload-error.js';

export interface ReceivedFile {
  path: string;
  /** The client's name for it (display only), cut to 200 printable characters. */
  fileName: string;
  bytes: number;
  head: Buffer;
}

export interface ReceivedUpload {
  fields: Record<string, string>;
  video?: ReceivedFile;
  evidence?: ReceivedFile;
}

export interface ReceiveLimits {
  maxVideoBytes: number;
  maxEvidenceBytes: number;
}

const FIELDS = new Set(['name', 'consent']);

/** Printable, single-line, bounded: safe to log and show. */
export function displayName(name: string | undefined): string {
  return (name ?? '').replace(/[^\p{L}\p{N}\p{P}\p{Zs}]/gu, '_').slice(0, 200);
}

/** A stored file's size and first 4 KiB (what the type checks look at). */
export async function readHead(file: string): Promise<{ bytes: number; head: Buffer }> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, 4096, 0);
    return { bytes: (await handle.stat()).size, head: head.subarray(0, bytesRead) };
  } finally {
    await handle.close();
  }
}

function counter(limit: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit)
        done(
          new UploadRejected(
            'too-large',
            `the ${what} is larger than the limit of ${(limit / 2 ** 20).toFixed(0)} MiB`,
          ),
        );
      else done(null, chunk);
    },
  });
}

export async function receiveUpload(
  request: FastifyRequest,
  dir: string,
  limits: ReceiveLimits,
): Promise<ReceivedUpload> {
  if (!request.isMultipart()) throw new UploadRejected('bad-request', 'send the identity as multipart/form-data');
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limits.maxVideoBytes + limits.maxEvidenceBytes + 2 ** 20)
    throw new UploadRejected('too-large', `the request declares ${declared} bytes, more than the upload limits allow`);
  await mkdir(dir, { recursive: true });
  const out: ReceivedUpload = { fields: {} };
  try {
    for await (const part of request.parts({
      limits: {
        fileSize: Math.max(limits.maxVideoBytes, limits.maxEvidenceBytes),
        files: 2,
        fields: 8,
        parts: 10,
        fieldSize: 64 * 1024,
        headerPairs: 20,
      },
    })) {
      if (part.type === 'field') {
        if (!FIELDS.has(part.fieldname))
          throw new UploadRejected('bad-request', `unknown field ${JSON.stringify(displayName(part.fieldname))}`);
        if (part.valueTruncated) throw new UploadRejected('too-large', `the field ${part.fieldname} is over 64 KiB`);
        out.fields[part.fieldname] = String(part.value);
        continue;
      }
      const slot = part.fieldname;
      if (slot !== 'video' && slot !== 'evidence')
        throw new UploadRejected(
          'bad-request',
          `unknown file field ${JSON.stringify(displayName(slot))}: use video and evidence`,
        );
      if (out[slot]) throw new UploadRejected('bad-request', `more than one ${slot} file`);
      const target = path.join(dir, slot);
      const limit = slot === 'video' ? limits.maxVideoBytes : limits.maxEvidenceBytes;
      await pipeline(
        part.file,
        counter(limit, slot === 'video' ? 'video' : 'consent evidence'),
        createWriteStream(target, { flags: 'wx', mode: 0o600 }),
      );
      if (part.file.truncated)
        throw new UploadRejected(
          'too-large',
          `the ${slot} is larger than the limit of ${(limit / 2 ** 20).toFixed(0)} MiB`,
        );
      const handle = await open(target, 'r');
      const head = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(head, 0, 4096, 0);
      const { size } = await handle.stat();
      await handle.close();
      out[slot] = {
        path: target,
        fileName: displayName(part.filename),
        bytes: size,
        head: head.subarray(0, bytesRead),
      };
    }
  } catch (error) {
    if (error instanceof UploadRejected) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (code === 'FST_REQ_FILE_TOO_LARGE')
      throw new UploadRejected('too-large', 'a file is larger than the upload limit');
    if (code.startsWith('FST_') || /multipart|boundary|unexpected end/i.test((error as Error).message))
      throw new UploadRejected('bad-request', `malformed multipart body: ${(error as Error).message}`);
    throw error;
  }
  return out;
}
