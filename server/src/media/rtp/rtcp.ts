// The RTCP mediasoup sends to a producer's side: a compound packet whose picture-loss (PLI) and full-intra (FIR)
// feedback ask the encoder for a keyframe (RFC 4585 section 6.3.1, RFC 5104 section 4.3.1).

const PSFB = 206;
const FMT_PLI = 1;
const FMT_FIR = 4;

/** The media SSRCs asking for a keyframe in a compound RTCP packet (malformed input yields what was read so far). */
export function keyframeRequests(compound: Uint8Array): number[] {
  const view = new DataView(compound.buffer, compound.byteOffset, compound.byteLength);
  const ssrcs: number[] = [];
  for (let at = 0; at + 4 <= compound.length; ) {
    const b0 = compound[at] as number;
    if (b0 >> 6 !== 2) break;
    const length = (view.getUint16(at + 2) + 1) * 4;
    if (at + length > compound.length) break;
    const fmt = b0 & 0x1f;
    if (compound[at + 1] === PSFB && length >= 12) {
      if (fmt === FMT_PLI) ssrcs.push(view.getUint32(at + 8));
      else if (fmt === FMT_FIR) for (let e = at + 12; e + 8 <= at + length; e += 8) ssrcs.push(view.getUint32(e));
    }
    at += length;
  }
  return ssrcs;
}
