// A client's microphone track into the engine: mediasoup hands the decrypted RTP to Node through a DirectTransport
// consumer; each Opus packet is decoded to 48 kHz and pushed to the engine session, which resamples it to 16 kHz.
// Gaps (loss, or DTX silence) are filled with silence from the RTP timestamps, so speech keeps its timing. After
// SILENCE_END_MS without packets the segment ends (the mouth closes; the next packet opens a new one).
import type { types } from 'mediasoup';
import { epochMs } from '../engine/protocol.js';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { Logger } from '../logger.js';
import { OpusDecoder } from './opus.js';
import { parseRtpPacket } from './rtp/rtp-packet.js';

const logger = new Logger('MicrophoneInput');
const SILENCE_END_MS = 400;
/** Longest gap filled with silence; a longer one is a pause, not loss. */
const MAX_GAP_SAMPLES = 48000;

/** Where decoded microphone audio goes (the session's engine session). */
export interface AudioSink {
  push(pcm: Int16Array, sampleRate: 48000, receivedAtMs: number): void;
  end(): void;
}

export type MicrophoneInputEvents = { packet: [] };

export class MicrophoneInput extends EnhancedEventEmitter<MicrophoneInputEvents> {
  private readonly decoder = new OpusDecoder();
  private lastTimestamp: number | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  packets = 0;
  undecodable = 0;

  constructor(
    readonly consumer: types.Consumer,
    private readonly sink: AudioSink,
  ) {
    super();
    const payloadType = consumer.rtpParameters.codecs[0]?.payloadType;
    consumer.on('rtp', (packet) => this.received(packet, payloadType));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.endTimer);
    if (this.lastTimestamp !== undefined) this.sink.end();
    this.consumer.close();
    this.decoder.close();
  }

  private received(bytes: Buffer, payloadType: number | undefined): void {
    if (this.isClosed) return;
    const receivedAtMs = epochMs();
    const rtp = parseRtpPacket(bytes);
    if (!rtp || rtp.payloadType !== payloadType) return;
    const pcm = this.decoder.decode(rtp.payload);
    if (!pcm || pcm.length === 0) {
      this.undecodable++;
      return;
    }
    this.packets++;
    if (this.lastTimestamp !== undefined) {
      const gap = ((rtp.timestamp - this.lastTimestamp) >>> 0) - pcm.length;
      // A timestamp behind the last one (reordering) is played where it arrives; silence fills forward gaps only.
      if (gap > 0 && gap <= MAX_GAP_SAMPLES) this.sink.push(new Int16Array(gap), 48000, receivedAtMs);
    }
    this.lastTimestamp = rtp.timestamp;
    this.sink.push(pcm, 48000, receivedAtMs);
    this.safeEmit('packet');
    clearTimeout(this.endTimer);
    this.endTimer = setTimeout(() => {
      logger.debug('consumer %s: no audio for %d ms, segment ends', this.consumer.id, SILENCE_END_MS);
      this.lastTimestamp = undefined;
      this.sink.end();
    }, SILENCE_END_MS);
  }
}
