import type { Failure } from './checks.js';
import { ErrorCode } from './gen/splatcast/v1/errors_pb.js';

/**
 * Revision of the splatcast.v1 protocol this package speaks, sent in Hello and Welcome.
 *
 * Compatibility rule: within splatcast.v1 changes are additive only (new fields, new oneof cases, new enum values;
 * never a renumbered, retyped or reused field), so any two v1 peers interoperate. Each revision bumps this number;
 * a peer may rely on a feature only when the negotiated version (the lower of the two) includes it, and ignores
 * cases it does not know. A peer refuses versions below MIN_PROTOCOL_VERSION. A breaking change is a new package
 * (splatcast.v2) with its own WebSocket subprotocol.
 */
export const PROTOCOL_VERSION = 1;

/** Oldest revision this package still accepts from a peer. */
export const MIN_PROTOCOL_VERSION = 1;

/** WebSocket subprotocol (Sec-WebSocket-Protocol) naming the wire-compatible family. */
export const WS_SUBPROTOCOL = 'splatcast.v1';

export type VersionNegotiation = { ok: true; version: number } | { ok: false; failure: Failure };

/** The version a session runs at, given the peer's; `own` and `min` default to this package's. */
export function negotiateProtocolVersion(
  peer: number,
  own: number = PROTOCOL_VERSION,
  min: number = MIN_PROTOCOL_VERSION,
): VersionNegotiation {
  if (!Number.isInteger(peer) || peer < min) {
    const message = `protocol version ${peer} is not supported: this side accepts ${min} or later`;
    return { ok: false, failure: { code: ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, message } };
  }
  return { ok: true, version: Math.min(peer, own) };
}
