// Identifiers of stored things: a kind prefix and 20 random hex digits (80 bits). Every id that arrives from outside
// is checked against this shape before it names a file, so no id can walk out of its folder.
import { randomBytes } from 'node:crypto';

export type IdKind = 'idn' | 'job' | 'pri' | 'key' | 'upl';

const SHAPE = /^(idn|job|pri|key|upl)_[0-9a-f]{20}$/;

export function newId(kind: IdKind): string {
  return `${kind}_${randomBytes(10).toString('hex')}`;
}

/** Whether `id` is a well-formed id of `kind`. */
export function isId(id: unknown, kind: IdKind): id is string {
  return typeof id === 'string' && SHAPE.test(id) && id.startsWith(`${kind}_`);
}
