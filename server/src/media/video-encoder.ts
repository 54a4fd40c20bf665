// The native VP8 / H.264 encoder (native/src, built by scripts/build-native.mjs) behind a typed wrapper. Encodes run
// on the libuv pool, so a process encoding many sessions uses several cores; each encoder takes one frame at a time.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VideoCodec } from '../engine/protocol.js';

export interface VideoEncoderOptions {
  codec: VideoCodec;
  width: number;
  height: number;
  fps: number;
  bitrateBps: number;
  /** Safety keyframe interval in frames (default 250, 10 s at 25 fps). */
  keyframeInterval?: number;
}

export interface EncodedVideo {
  /** VP8: one frame. H.264: Annex-B NAL units. */
  data: Uint8Array;
  keyframe: boolean;
}

interface NativeEncoder {
  encode(i420: Uint8Array, frameIndex: number, keyframe: boolean): Promise<EncodedVideo>;
  setBitrate(bps: number): void;
  close(): void;
}

type NativeModule = { VideoEncoder: new (options: VideoEncoderOptions) => NativeEncoder };

const here = path.dirname(fileURLToPath(import.meta.url));
// src/media or dist/media: the addon is built into <server>/native/build either way.
const ADDON = path.resolve(here, '..', '..', 'native', 'build', 'splatcast_media.node');
let native: NativeModule | undefined;

function load(): NativeModule {
  if (!native) {
    try {
      native = createRequire(import.meta.url)(ADDON) as NativeModule;
    } catch (error) {
      throw new Error(
        `the media addon (${ADDON}) does not load: ${(error as Error).message}. Build it with \`npm run build:native -w server\` (needs libvpx-dev and libopenh264-dev: scripts/setup-system.sh)`,
      );
    }
  }
  return native;
}

export class VideoEncoder {
  private readonly encoder: NativeEncoder;
  private busy = false;
  private isClosed = false;

  constructor(readonly options: VideoEncoderOptions) {
    this.encoder = new (load().VideoEncoder)(options);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether an encode is running (a second one must wait). */
  get encoding(): boolean {
    return this.busy;
  }

  async encode(i420: Uint8Array, frameIndex: number, keyframe: boolean): Promise<EncodedVideo> {
    if (this.isClosed) throw new Error('VideoEncoder: closed');
    this.busy = true;
    try {
      return await this.encoder.encode(i420, frameIndex, keyframe);
    } finally {
      this.busy = false;
    }
  }

  /** Takes effect from the next frame. */
  setBitrate(bps: number): void {
    if (!this.isClosed) this.encoder.setBitrate(bps);
  }

  /** Frees the encoder (after the running encode, if any). */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.encoder.close();
  }
}
