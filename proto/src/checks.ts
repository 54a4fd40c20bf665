import { ErrorCode } from './gen/splatcast/v1/errors_pb.js';
import { MediaKind } from './gen/splatcast/v1/media_pb.js';
import { MAX_ID_LENGTH, MAX_JSON_FIELD_LENGTH, MAX_TEXT_LENGTH } from './limits.js';

/** Why a message was refused. */
export interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A field check: undefined when the field is fine. */
export type Check = Failure | undefined;

export function invalid(message: string): Failure {
  return { code: ErrorCode.INVALID_ARGUMENT, message };
}

/** The first failing check, in argument order. */
export function first(...checks: Check[]): Check {
  return checks.find((check) => check !== undefined);
}

export function id(name: string, value: string): Check {
  if (value.length === 0) return invalid(`${name} is empty`);
  return text(name, value, MAX_ID_LENGTH);
}

/** An id that may be left empty. */
export function optionalId(name: string, value: string): Check {
  return value.length === 0 ? undefined : id(name, value);
}

export function text(name: string, value: string, max: number = MAX_TEXT_LENGTH): Check {
  return value.length > max ? invalid(`${name} has ${value.length} characters, more than ${max}`) : undefined;
}

export function nonZero(name: string, value: number): Check {
  return value === 0 ? invalid(`${name} is 0 (missing)`) : undefined;
}

export function finite(name: string, value: number): Check {
  return Number.isFinite(value) ? undefined : invalid(`${name} is ${value}, expected a finite number`);
}

export const MEDIA_KINDS: readonly number[] = Object.freeze([MediaKind.AUDIO, MediaKind.VIDEO]);

/** A closed enum: values a newer peer might add are refused, since this side could not act on them. */
export function oneOf(name: string, value: number, allowed: readonly number[]): Check {
  return allowed.includes(value) ? undefined : invalid(`${name} is ${value}, expected one of ${allowed.join(', ')}`);
}

/** JSON text of an object or an array; `optional` lets it be empty. */
export function json(name: string, value: string, shape: 'object' | 'array', optional = false): Check {
  if (value.length === 0) return optional ? undefined : invalid(`${name} is empty`);
  if (value.length > MAX_JSON_FIELD_LENGTH) {
    return invalid(`${name} has ${value.length} characters, more than ${MAX_JSON_FIELD_LENGTH}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return invalid(`${name} is not valid JSON`);
  }
  const isArray = Array.isArray(parsed);
  const fits = shape === 'array' ? isArray : typeof parsed === 'object' && parsed !== null && !isArray;
  return fits ? undefined : invalid(`${name} is not a JSON ${shape}`);
}

/** s16le mono PCM: a non-empty, even number of bytes within the limit. */
export function pcm(name: string, data: Uint8Array, maxBytes: number): Check {
  if (data.byteLength > maxBytes) {
    return {
      code: ErrorCode.MESSAGE_TOO_LARGE,
      message: `${name} has ${data.byteLength} bytes, more than ${maxBytes}`,
    };
  }
  if (data.byteLength === 0 || data.byteLength % 2 !== 0) {
    return invalid(`${name} has ${data.byteLength} bytes, expected a non-zero even number (s16le samples)`);
  }
  return undefined;
}

/** Compile-time exhaustiveness: a new oneof case fails to type-check at the call until it is validated. */
/* c8 ignore next 3: only reachable through a type error */
export function unhandled(payload: never): Check {
  return invalid(`no validation for payload ${JSON.stringify(payload)}`);
}
