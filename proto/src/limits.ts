import type { ServerLimits } from './gen/splatcast/v1/session_pb.js';

/** Sample rates agent audio (PcmChunk) may use, in Hz. */
export const PCM_SAMPLE_RATES: readonly number[] = Object.freeze([16000, 24000, 48000]);

// Fixed caps on fields; string lengths are in UTF-16 code units (String.length), so a cap costs no encoding pass.
/** Longest id: session, transport, producer, consumer, identity. */
export const MAX_ID_LENGTH = 128;
/** Longest session token. */
export const MAX_TOKEN_LENGTH = 4096;
/** Longest free text: error and close messages, client info. */
export const MAX_TEXT_LENGTH = 1024;
/** Longest mediasoup parameter object carried as JSON text (a router's RTP capabilities are ~3-6k). */
export const MAX_JSON_FIELD_LENGTH = 32 * 1024;

/** Limits the codec enforces; the server sets them from its configuration, the SDK from Welcome. */
export interface CodecLimits {
  /** Largest encoded envelope; larger input is rejected before it is parsed. */
  readonly maxMessageBytes: number;
  /** Largest PcmChunk.data. */
  readonly maxPcmChunkBytes: number;
  /** Accepted PcmChunk.sample_rate values. */
  readonly pcmSampleRates: readonly number[];
}

/** 64 KiB of PCM is 2 s at 16 kHz or 0.68 s at 48 kHz; the envelope limit leaves room for the JSON fields. */
export const DEFAULT_CODEC_LIMITS: CodecLimits = Object.freeze({
  maxMessageBytes: 128 * 1024,
  maxPcmChunkBytes: 64 * 1024,
  pcmSampleRates: PCM_SAMPLE_RATES,
});

/** The limits a client must respect after the server's Welcome. */
export function codecLimitsFromServer(limits: ServerLimits): CodecLimits {
  return {
    maxMessageBytes: limits.maxMessageBytes,
    maxPcmChunkBytes: limits.maxPcmChunkBytes,
    pcmSampleRates: PCM_SAMPLE_RATES.filter((rate) => limits.pcmSampleRates.includes(rate)),
  };
}
