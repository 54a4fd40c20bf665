// One PNG decoder thread of PngDecoderPool (png-decoder.ts): reads a file, decodes it with pngjs and sends back its
// pixels with the wanted channel count (the buffer is transferred, not copied).
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { PNG } from 'pngjs';

export interface DecodeRequest {
  file: string;
  channels: 1 | 3;
}

export type DecodeReply =
  | { width: number; height: number; data: ArrayBuffer }
  | { error: string; reason: 'unreadable' | 'invalid' };

async function decode({ file, channels }: DecodeRequest): Promise<DecodeReply> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return { error: (error as Error).message, reason: 'unreadable' };
  }
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (error) {
    return { error: (error as Error).message, reason: 'invalid' };
  }
  // pngjs always decodes to RGBA; a grey image repeats its value in R, G and B.
  const pixels = png.width * png.height;
  const out = new Uint8Array(pixels * channels);
  const rgba = png.data;
  if (channels === 1) for (let i = 0; i < pixels; i++) out[i] = rgba[4 * i] as number;
  else
    for (let i = 0; i < pixels; i++) {
      out[3 * i] = rgba[4 * i] as number;
      out[3 * i + 1] = rgba[4 * i + 1] as number;
      out[3 * i + 2] = rgba[4 * i + 2] as number;
    }
  return { width: png.width, height: png.height, data: out.buffer };
}

parentPort?.on('message', (request: DecodeRequest) => {
  void decode(request).then((reply) => parentPort?.postMessage(reply, 'data' in reply ? [reply.data] : []));
});
