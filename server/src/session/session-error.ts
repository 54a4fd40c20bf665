// A request a session refuses, with the protocol error code the client gets (proto/ERRORS.md).
import { ErrorCode } from '@splatcast/proto';

export class SessionError extends Error {
  override name = 'SessionError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The connection closes after sending it. */
    readonly fatal = false,
  ) {
    super(message);
  }
}

/** Parses a `_json` field the codec already checked to be JSON of the right shape. */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Maps a mediasoup or engine failure to the error the client gets. */
export function asSessionError(error: unknown, fallback = ErrorCode.INTERNAL): SessionError {
  if (error instanceof SessionError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SessionError(fallback, message);
}
