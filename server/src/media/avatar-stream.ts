// The avatar's two tracks leaving the server: encoded frames from the engine worker become RTP on a video producer,
// and the speech each frame carries becomes Opus on an audio producer, both on the session's DirectTransport.
//
// Timing (MediaClock): frame k's picture and speech carry RTP times derived from k alone, and leave as soon as the
// frame is encoded, the second speech packet 20 ms later. mediasoup's sender reports map RTP time to the send clock,
// so the browser plays each frame's speech with its picture. Every frame carries abs-capture-time: when the
// audio that drives it reached the server, so a client can measure audio-to-video latency from outside.
import { randomInt } from 'node:crypto';
import type { types } from 'mediasoup';
import { type EncodedEngineFrame, epochMs, type VideoCodec } from '../engine/protocol.js';
import { EnhancedEventEmitter } from '../enhanced-events.js';
import { MediaClock } from './media-clock.js';
import { OpusEncoder } from './opus.js';
import { h264Payloads, vp8Payloads } from './rtp/payloaders.js';
import { keyframeRequests } from './rtp/rtcp.js';
import { absCaptureTime, writeRtpPacket } from './rtp/rtp-packet.js';

export const ABS_CAPTURE_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';
const EXT_ID = 1;
const SPEECH_SAMPLES_PER_PACKET = 320;

/** The RTP codec a producer of `codec` declares (mediasoup matches it to the router's codecs). */
export function videoCodecParameters(codec: VideoCodec): types.RtpCodecParameters {
  const rtcpFeedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];
  if (codec === 'vp8') return { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback };
  return {
    mimeType: 'video/H264',
    payloadType: 97,
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
    rtcpFeedback,
  };
}

export interface AvatarStreamStats {
  framesSent: number;
  keyframesSent: number;
  framesWithoutPicture: number;
  videoBytesSent: number;
  audioPacketsSent: number;
  keyframeRequests: number;
}

export type AvatarStreamEvents = {
  /** A receiver lost a picture (PLI) or asked for a full intra frame (FIR). */
  keyframeRequest: [];
  /** A frame's packets left: its timing, for the latency histograms. */
  sent: [EncodedEngineFrame, number];
};

export class AvatarStream extends EnhancedEventEmitter<AvatarStreamEvents> {
  readonly videoProducer: types.Producer;
  readonly audioProducer: types.Producer;
  private readonly speech = new OpusEncoder(16000);
  private readonly videoSsrc: number;
  private readonly audioSsrc: number;
  private readonly videoPt: number;
  private videoSeq = randomInt(0, 0x10000);
  private audioSeq = randomInt(0, 0x10000);
  readonly clock = new MediaClock();
  private pictureId = randomInt(0, 0x8000);
  private readonly timers = new Set<NodeJS.Timeout>();
  private isClosed = false;
  readonly counters: AvatarStreamStats = {
    framesSent: 0,
    keyframesSent: 0,
    framesWithoutPicture: 0,
    videoBytesSent: 0,
    audioPacketsSent: 0,
    keyframeRequests: 0,
  };

  static async create(transport: types.DirectTransport, codec: VideoCodec): Promise<AvatarStream> {
    const videoSsrc = randomInt(1, 2 ** 32 - 1);
    const audioSsrc = randomInt(1, 2 ** 32 - 1);
    const headerExtensions = [{ uri: ABS_CAPTURE_TIME_URI, id: EXT_ID }] as types.RtpHeaderExtensionParameters[];
    const video = await transport.produce({
      kind: 'video',
      rtpParameters: { codecs: [videoCodecParameters(codec)], encodings: [{ ssrc: videoSsrc }], headerExtensions },
      appData: { source: 'avatar' },
    });
    let audio: types.Producer;
    try {
      audio = await transport.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: audioSsrc }],
          headerExtensions,
        },
        appData: { source: 'avatar' },
      });
    } catch (error) {
      video.close();
      throw error;
    }
    return new AvatarStream(transport, codec, video, audio, videoSsrc, audioSsrc);
  }

  private constructor(
    private readonly transport: types.DirectTransport,
    readonly codec: VideoCodec,
    video: types.Producer,
    audio: types.Producer,
    videoSsrc: number,
    audioSsrc: number,
  ) {
    super();
    this.videoProducer = video;
    this.audioProducer = audio;
    this.videoSsrc = videoSsrc;
    this.audioSsrc = audioSsrc;
    this.videoPt = videoCodecParameters(codec).payloadType;
    transport.on('rtcp', this.onRtcp);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends frame k's picture now and its speech in two packets, now and 20 ms later. */
  send(frame: EncodedEngineFrame): void {
    if (this.isClosed || this.videoProducer.closed) return;
    const captured = absCaptureTime(frame.timing.audioArrivalMs ?? frame.timing.tickMs);
    const extensions = [{ id: EXT_ID, data: captured }];
    if (frame.video) {
      const payloads =
        frame.video.codec === 'vp8'
          ? vp8Payloads(frame.video.data, this.nextPictureId())
          : h264Payloads(frame.video.data);
      const timestamp = this.clock.video(frame.frameIndex);
      payloads.forEach((payload, i) => {
        const packet = writeRtpPacket({
          payloadType: this.videoPt,
          sequenceNumber: this.videoSeq++,
          timestamp,
          ssrc: this.videoSsrc,
          marker: i === payloads.length - 1,
          extensions,
          payload,
        });
        this.counters.videoBytesSent += packet.length;
        this.videoProducer.send(packet);
      });
      if (frame.video.keyframe) this.counters.keyframesSent++;
    } else this.counters.framesWithoutPicture++;
    this.counters.framesSent++;
    this.safeEmit('sent', frame, epochMs());
    const k = frame.frameIndex;
    this.sendSpeech(frame.audio.subarray(0, SPEECH_SAMPLES_PER_PACKET), this.clock.audio(k, 0), extensions);
    const later = setTimeout(() => {
      this.timers.delete(later);
      this.sendSpeech(frame.audio.subarray(SPEECH_SAMPLES_PER_PACKET), this.clock.audio(k, 1), extensions);
    }, 20);
    this.timers.add(later);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.transport.off('rtcp', this.onRtcp);
    this.videoProducer.close();
    this.audioProducer.close();
    this.speech.close();
  }

  private sendSpeech(samples: Float32Array, timestamp: number, extensions: { id: number; data: Uint8Array }[]): void {
    if (this.isClosed || this.audioProducer.closed) return;
    const packet = writeRtpPacket({
      payloadType: 100,
      sequenceNumber: this.audioSeq++,
      timestamp,
      ssrc: this.audioSsrc,
      marker: false,
      extensions,
      payload: this.speech.encode(samples),
    });
    this.audioProducer.send(packet);
    this.counters.audioPacketsSent++;
  }

  private nextPictureId(): number {
    this.pictureId = (this.pictureId + 1) & 0x7fff;
    return this.pictureId;
  }

  private readonly onRtcp = (packet: Buffer): void => {
    if (keyframeRequests(packet).includes(this.videoSsrc)) {
      this.counters.keyframeRequests++;
      this.safeEmit('keyframeRequest');
    }
  };
}
