// Encodes one session's frames inside the engine worker, in order: the SFU gets a few kilobytes per frame over IPC
// instead of raw pictures. Frames queue behind a running encode; when more than MAX_QUEUED wait (the encoders fall
// behind the clock) the oldest ones leave without a picture, so audio is never held back or dropped.
import { VideoEncoder } from '../media/video-encoder.js';
import { type EncodedEngineFrame, type EngineFrame, epochMs, type VideoCodec } from './protocol.js';

const MAX_QUEUED = 2;

export interface FrameEncoderOptions {
  codec: VideoCodec;
  width: number;
  height: number;
  fps: number;
  bitrateBps: number;
  keyframeInterval?: number;
}

export class FrameEncoder {
  private readonly encoder: VideoEncoder;
  private readonly queue: EngineFrame[] = [];
  private keyframeWanted = true;
  private running = false;
  private dropped = 0;

  constructor(
    readonly options: FrameEncoderOptions,
    private readonly post: (frame: EncodedEngineFrame) => void,
    private readonly onError: (error: Error) => void,
  ) {
    this.encoder = new VideoEncoder(options);
  }

  /** Pictures dropped because the encoder fell behind. */
  get droppedFrames(): number {
    return this.dropped;
  }

  push(frame: EngineFrame): void {
    if (this.encoder.closed) return;
    this.queue.push(frame);
    while (this.queue.length > MAX_QUEUED) {
      this.dropped++;
      this.post(withoutPicture(this.queue.shift() as EngineFrame));
    }
    if (!this.running) void this.drain();
  }

  requestKeyframe(): void {
    this.keyframeWanted = true;
  }

  setBitrate(bps: number): void {
    this.encoder.setBitrate(bps);
  }

  close(): void {
    this.queue.length = 0;
    this.encoder.close();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let frame = this.queue.shift(); frame; frame = this.queue.shift()) {
        const keyframe = this.keyframeWanted;
        this.keyframeWanted = false;
        const video = await this.encoder.encode(frame.i420, frame.frameIndex, keyframe);
        if (this.encoder.closed) return;
        const { i420: _, ...rest } = frame;
        this.post({
          ...rest,
          video: { codec: this.options.codec, ...video },
          timing: { ...frame.timing, encodedMs: epochMs() },
        });
      }
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.running = false;
    }
  }
}

function withoutPicture(frame: EngineFrame): EncodedEngineFrame {
  const { i420: _, ...rest } = frame;
  return rest;
}
