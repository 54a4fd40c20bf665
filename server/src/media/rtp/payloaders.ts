// Encoded video frames into RTP payloads no larger than an MTU-safe size: VP8 (RFC 7741) and H.264 packetization
// mode 1 (RFC 6184: single NAL unit packets and FU-A fragments). The last payload of a frame carries the marker.

/** Payload bytes per packet: 1200 leaves room for RTP, extensions and SRTP below a 1280-byte path MTU. */
export const MAX_PAYLOAD_BYTES = 1200;

/** VP8 payloads with a 4-byte descriptor: X=1, S on the first packet, and a 15-bit picture id (I=1, M=1). */
export function vp8Payloads(frame: Uint8Array, pictureId: number, max = MAX_PAYLOAD_BYTES): Uint8Array[] {
  const room = max - 4;
  const out: Uint8Array[] = [];
  for (let at = 0; at < frame.length || out.length === 0; at += room) {
    const chunk = frame.subarray(at, Math.min(frame.length, at + room));
    const payload = new Uint8Array(4 + chunk.length);
    payload[0] = 0x80 | (at === 0 ? 0x10 : 0);
    payload[1] = 0x80;
    payload[2] = 0x80 | ((pictureId >> 8) & 0x7f);
    payload[3] = pictureId & 0xff;
    payload.set(chunk, 4);
    out.push(payload);
  }
  return out;
}

/** NAL units of an Annex-B stream (start codes 00 00 01 or 00 00 00 01), without their start codes. */
export function annexBNalUnits(stream: Uint8Array): Uint8Array[] {
  const starts: [number, number][] = []; // [start code position, payload position]
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      const codeAt = i > 0 && stream[i - 1] === 0 ? i - 1 : i;
      starts.push([codeAt, i + 3]);
      i += 2;
    }
  }
  return starts.map(([, from], k) => stream.subarray(from, k + 1 < starts.length ? starts[k + 1]?.[0] : stream.length));
}

/** H.264 payloads: each NAL unit whole when it fits, otherwise FU-A fragments. */
export function h264Payloads(annexB: Uint8Array, max = MAX_PAYLOAD_BYTES): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const nal of annexBNalUnits(annexB)) {
    if (nal.length === 0) continue;
    if (nal.length <= max) {
      out.push(nal);
      continue;
    }
    const header = nal[0] as number;
    const indicator = (header & 0xe0) | 28;
    const type = header & 0x1f;
    const room = max - 2;
    for (let at = 1; at < nal.length; at += room) {
      const chunk = nal.subarray(at, Math.min(nal.length, at + room));
      const fu = new Uint8Array(2 + chunk.length);
      fu[0] = indicator;
      fu[1] = (at === 1 ? 0x80 : 0) | (at + room >= nal.length ? 0x40 : 0) | type;
      fu.set(chunk, 2);
      out.push(fu);
    }
  }
  return out;
}
