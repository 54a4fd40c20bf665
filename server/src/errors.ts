// One error type for everything the engine workers report, with a stable code per cause (the signalling layer maps
// codes to protocol errors; docs list them with what to do).

export type EngineErrorCode =
  /** A request's shape or values are wrong (the message says which field and what was expected). */
  | 'invalid-request'
  /** The object was closed, or the session is unknown to the worker. */
  | 'invalid-state'
  /** The worker holds maxSessions sessions already. */
  | 'session-limit'
  /** The identity package could not be loaded or uploaded. */
  | 'identity'
  /** The identity needs something this server does not do (another audio feature, too much lookahead). */
  | 'unsupported'
  /** The worker did not answer in time. */
  | 'timeout'
  /** The worker process exited while the request was in flight. */
  | 'worker-died'
  /** A bug or device fault inside the worker. */
  | 'internal';

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The plain form an error crosses the process boundary in. */
export interface ErrorReply {
  code: EngineErrorCode;
  message: string;
}

export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof EngineError) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
