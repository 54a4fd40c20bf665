// Opus through opusscript (libopus 1.4 compiled to WebAssembly, from npm: installs anywhere, nothing to build).
// The avatar's speech is encoded at 16 kHz (the engine's audio rate) in 20 ms frames; microphone packets are
// decoded to 48 kHz mono. Both hold WebAssembly memory: close() frees it.
import OpusScript from 'opusscript';

const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;

/** Complexity 5 of 10: about 0.2 ms per 20 ms frame here, a quarter of the default's cost, for speech. */
const COMPLEXITY = 5;

export class OpusEncoder {
  private readonly opus: OpusScript;
  private readonly pcm: Buffer;
  private closed = false;
  readonly frameSamples: number;

  constructor(
    readonly sampleRate: 16000 | 48000,
    bitrateBps = 32000,
  ) {
    this.opus = new OpusScript(sampleRate, 1, OpusScript.Application.AUDIO);
    this.opus.encoderCTL(OPUS_SET_COMPLEXITY, COMPLEXITY);
    this.opus.encoderCTL(OPUS_SET_INBAND_FEC, 1);
    this.opus.encoderCTL(OPUS_SET_PACKET_LOSS_PERC, 5);
    this.opus.setBitrate(bitrateBps);
    this.frameSamples = sampleRate / 50;
    this.pcm = Buffer.alloc(this.frameSamples * 2);
  }

  /** One 20 ms frame of float samples in [-1, 1] → one Opus packet. */
  encode(samples: Float32Array): Buffer {
    if (this.closed) throw new Error('OpusEncoder: closed');
    if (samples.length !== this.frameSamples)
      throw new RangeError(`OpusEncoder: expected ${this.frameSamples} samples (20 ms), got ${samples.length}`);
    for (let i = 0; i < samples.length; i++) {
      const v = Math.max(-1, Math.min(1, samples[i] as number));
      this.pcm.writeInt16LE(Math.round(v * 32767), i * 2);
    }
    return this.opus.encode(this.pcm, this.frameSamples);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opus.delete();
  }
}

export class OpusDecoder {
  private readonly opus = new OpusScript(48000, 1);
  private closed = false;

  /** One Opus packet → 48 kHz mono s16 samples; undefined for a packet libopus refuses. */
  decode(packet: Uint8Array): Int16Array | undefined {
    if (this.closed) throw new Error('OpusDecoder: closed');
    let out: Buffer;
    try {
      out = this.opus.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    } catch {
      return undefined;
    }
    return new Int16Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opus.delete();
  }
}
