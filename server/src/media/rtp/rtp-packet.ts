// RTP packets (RFC 3550) with one-byte header extensions (RFC 8285): writing the avatar's packets, reading the
// microphone's. Plain functions over bytes; mediasoup does SRTP, retransmissions and the browser-facing RTCP.

export interface RtpHeaderExtension {
  /** 1..14 (one-byte form). */
  id: number;
  /** 1..16 bytes. */
  data: Uint8Array;
}

export interface RtpPacketFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  extensions?: readonly RtpHeaderExtension[];
  payload: Uint8Array;
}

export const RTP_HEADER_BYTES = 12;

export function writeRtpPacket(p: RtpPacketFields): Buffer {
  const extensions = p.extensions ?? [];
  let extBytes = 0;
  for (const e of extensions) {
    if (e.id < 1 || e.id > 14 || e.data.length < 1 || e.data.length > 16)
      throw new RangeError(
        `RTP header extension id ${e.id} with ${e.data.length} bytes does not fit the one-byte form`,
      );
    extBytes += 1 + e.data.length;
  }
  const extWords = Math.ceil(extBytes / 4);
  const headerBytes = RTP_HEADER_BYTES + (extensions.length ? 4 + extWords * 4 : 0);
  const out = Buffer.alloc(headerBytes + p.payload.length);
  out[0] = 0x80 | (extensions.length ? 0x10 : 0);
  out[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  out.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(p.timestamp >>> 0, 4);
  out.writeUInt32BE(p.ssrc >>> 0, 8);
  if (extensions.length) {
    out.writeUInt16BE(0xbede, 12);
    out.writeUInt16BE(extWords, 14);
    let at = 16;
    for (const e of extensions) {
      out[at++] = (e.id << 4) | (e.data.length - 1);
      out.set(e.data, at);
      at += e.data.length;
    }
  }
  out.set(p.payload, headerBytes);
  return out;
}

export interface ParsedRtp {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker: boolean;
  payload: Uint8Array;
}

/** The header fields and payload of an RTP packet, or undefined when the bytes are not one. */
export function parseRtpPacket(bytes: Uint8Array): ParsedRtp | undefined {
  if (bytes.length < RTP_HEADER_BYTES || (bytes[0] as number) >> 6 !== 2) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = bytes[0] as number;
  let at = RTP_HEADER_BYTES + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    if (at + 4 > bytes.length) return undefined;
    at += 4 + 4 * view.getUint16(at + 2);
  }
  let end = bytes.length;
  if (b0 & 0x20) end -= bytes[bytes.length - 1] as number;
  if (at > end) return undefined;
  return {
    payloadType: (bytes[1] as number) & 0x7f,
    marker: ((bytes[1] as number) & 0x80) !== 0,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: bytes.subarray(at, end),
  };
}

const NTP_EPOCH_OFFSET_S = 2208988800;

/**
 * abs-capture-time (http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time): the 64-bit NTP time (UQ32.32)
 * of `epochMs`. Splatcast stamps each frame with when the audio that drives it reached the server.
 */
export function absCaptureTime(epochMs: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  const seconds = Math.floor(epochMs / 1000);
  const fraction = Math.floor(((epochMs - seconds * 1000) / 1000) * 2 ** 32);
  view.setUint32(0, (seconds + NTP_EPOCH_OFFSET_S) >>> 0);
  view.setUint32(4, Math.min(fraction, 2 ** 32 - 1) >>> 0);
  return out;
}

/** Epoch ms of an abs-capture-time value (for tests and the Node SDK). */
export function readAbsCaptureTime(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return (view.getUint32(0) - NTP_EPOCH_OFFSET_S) * 1000 + (view.getUint32(4) / 2 ** 32) * 1000;
}
