// The checks an uploaded video passes before anything else touches it, cheapest and most telling first: what the
// bytes are and whether the name agrees; ffprobe (forced demuxer, file protocol only) for streams, codecs, size and
// duration; the container's structure end to end (truncation, trailing or foreign data, a huge header); one face.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { SourceVideo } from '../identity-catalog.js';
import { checkExtension, inspectContainer, sniff } from './container.js';
import { screenFaces } from './face-screen.js';
import { probeMedia } from './media-probe.js';
import type { ReceivedFile } from './receive.js';

export interface InspectLimits {
  minSeconds: number;
  maxSeconds: number;
  maxPixels: number;
  maxHeaderBytes: number;
  faceScreen: boolean;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function inspectVideo(file: ReceivedFile, limits: InspectLimits): Promise<SourceVideo> {
  const container = sniff(file.head);
  checkExtension(file.fileName, container);
  const info = await probeMedia(file.path, container, limits);
  await inspectContainer(file.path, limits);
  if (limits.faceScreen) await screenFaces(file.path, container, info);
  return { fileName: file.fileName, bytes: file.bytes, sha256: await sha256File(file.path), ...info };
}
