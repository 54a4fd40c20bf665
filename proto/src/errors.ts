import type { Failure } from './checks.js';
import { CloseReason, ErrorCode } from './gen/splatcast/v1/errors_pb.js';

/** A refused message, with the request it belonged to (0 when none or unknown). */
export interface ProtocolError extends Failure {
  readonly requestId: number;
}

/**
 * What a client does about an error or a close (proto/ERRORS.md gives the reasons):
 * - fix-client: a client bug; log it and do not resend the same message.
 * - retry: transient; retry after backoff (reconnect with backoff when the error was fatal).
 * - new-token: fetch a fresh token from the application's backend, then reconnect.
 * - recreate-media: create transports, produce and consume again, as after MediaReset.
 * - give-up: report to the application; do not retry automatically.
 */
export type ClientAction = 'fix-client' | 'retry' | 'new-token' | 'recreate-media' | 'give-up';

const ERROR_ACTIONS: Readonly<Record<ErrorCode, ClientAction>> = {
  [ErrorCode.UNSPECIFIED]: 'give-up',
  [ErrorCode.MALFORMED_MESSAGE]: 'fix-client',
  [ErrorCode.MESSAGE_TOO_LARGE]: 'fix-client',
  [ErrorCode.INVALID_ARGUMENT]: 'fix-client',
  [ErrorCode.UNSUPPORTED_PROTOCOL_VERSION]: 'give-up',
  [ErrorCode.UNEXPECTED_MESSAGE]: 'fix-client',
  [ErrorCode.RATE_LIMITED]: 'retry',
  [ErrorCode.UNAUTHENTICATED]: 'new-token',
  [ErrorCode.PERMISSION_DENIED]: 'give-up',
  [ErrorCode.IDENTITY_NOT_FOUND]: 'give-up',
  [ErrorCode.SESSION_LIMIT_REACHED]: 'retry',
  [ErrorCode.TRANSPORT_NOT_FOUND]: 'recreate-media',
  [ErrorCode.PRODUCER_NOT_FOUND]: 'recreate-media',
  [ErrorCode.CONSUMER_NOT_FOUND]: 'recreate-media',
  [ErrorCode.MEDIA_NEGOTIATION_FAILED]: 'give-up',
  [ErrorCode.AUDIO_BUFFER_FULL]: 'retry',
  [ErrorCode.ENGINE_UNAVAILABLE]: 'retry',
  [ErrorCode.INTERNAL]: 'retry',
};

const CLOSE_ACTIONS: Readonly<Record<Exclude<CloseReason, CloseReason.ERROR>, ClientAction>> = {
  [CloseReason.UNSPECIFIED]: 'give-up',
  [CloseReason.SERVER_SHUTDOWN]: 'retry',
  [CloseReason.IDLE_TIMEOUT]: 'give-up',
  [CloseReason.MAX_DURATION]: 'give-up',
  [CloseReason.REPLACED]: 'give-up',
};

/** The action for an error code; codes a newer server added are treated as give-up. */
export function errorAction(code: ErrorCode): ClientAction {
  return Object.hasOwn(ERROR_ACTIONS, code) ? ERROR_ACTIONS[code] : 'give-up';
}

/** The action for a close; CLOSE_REASON_ERROR defers to its error code. */
export function closeAction(reason: CloseReason, errorCode: ErrorCode = ErrorCode.UNSPECIFIED): ClientAction {
  if (reason === CloseReason.ERROR) return errorAction(errorCode);
  return Object.hasOwn(CLOSE_ACTIONS, reason) ? CLOSE_ACTIONS[reason] : 'give-up';
}

/** WebSocket close codes 4000-4999 are for applications: a fatal error closes with 4000 + its code. */
export const CLOSE_CODE_BASE = 4000;

export function closeCodeForError(code: ErrorCode): number {
  return CLOSE_CODE_BASE + code;
}

/** The error behind a WebSocket close code, or undefined for codes outside 4000-4999 (normal closes, network). */
export function errorForCloseCode(closeCode: number): ErrorCode | undefined {
  const code = closeCode - CLOSE_CODE_BASE;
  return Number.isInteger(code) && code > 0 && code < 1000 ? code : undefined;
}
