// Errors the SDK reports: the protocol's stable code (proto/ERRORS.md) and what to do about it.
import { type ClientAction, ErrorCode, errorAction } from '@splatcast/proto';

export class SplatcastError extends Error {
  override name = 'SplatcastError';
  readonly action: ClientAction;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fatal = false,
  ) {
    super(message);
    this.action = errorAction(code);
  }

  /** The name of the code, e.g. "UNAUTHENTICATED". */
  get codeName(): string {
    return ErrorCode[this.code] ?? `code ${this.code}`;
  }
}

export { ErrorCode };
