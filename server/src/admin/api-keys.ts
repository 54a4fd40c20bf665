// Admin API keys: `sck_<key id>_<secret>` with a 256-bit random secret. Only the SHA-256 of the secret is stored (a
// slow password hash buys nothing for a secret this long, and would cost every request); comparisons are constant
// time. Rotation issues a new secret and keeps the old one valid for a grace period so clients can switch over.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../storage/database.js';
import { isId, newId } from '../storage/ids.js';

export interface ApiKey {
  id: string;
  name: string;
  createdAt: string;
  rotatedAt: string | null;
  lastUsedAt: string | null;
  /** Until when the secret before the last rotation still works. */
  previousValidUntil: string | null;
}

interface Row {
  id: string;
  name: string;
  hash: string;
  previous_hash: string | null;
  previous_valid_until: string | null;
  created_at: string;
  rotated_at: string | null;
  last_used_at: string | null;
}

const KEY = /^sck_(key_[0-9a-f]{20})_([A-Za-z0-9_-]{43})$/;

const digest = (secret: string) => createHash('sha256').update(secret).digest();

const toKey = (r: Row): ApiKey => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  rotatedAt: r.rotated_at,
  lastUsedAt: r.last_used_at,
  previousValidUntil: r.previous_valid_until,
});

export class ApiKeys {
  constructor(
    private readonly db: Db,
    private readonly graceSeconds: number,
  ) {}

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM api_keys').get() as { n: number }).n;
  }

  /** Makes a key; the returned `secret` is the only time the full key is seen. */
  create(name: string, secret = randomBytes(32).toString('base64url')): { key: ApiKey; secret: string } {
    const id = newId('key');
    this.db
      .prepare('INSERT INTO api_keys (id, name, hash, created_at) VALUES (?, ?, ?, ?)')
      .run(id, name, digest(secret).toString('hex'), new Date().toISOString());
    return { key: this.get(id) as ApiKey, secret: `sck_${id}_${secret}` };
  }

  /** Stores an operator-chosen bootstrap key (any string of 32+ characters) under the name `bootstrap`. */
  createBootstrap(full: string): ApiKey {
    const id = newId('key');
    this.db
      .prepare('INSERT INTO api_keys (id, name, hash, created_at) VALUES (?, ?, ?, ?)')
      .run(id, 'bootstrap', digest(`raw:${full}`).toString('hex'), new Date().toISOString());
    return this.get(id) as ApiKey;
  }

  get(id: string): ApiKey | undefined {
    const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(id) as Row | undefined;
    return row && toKey(row);
  }

  list(): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as Row[]).map(toKey);
  }

  rotate(id: string): { key: ApiKey; secret: string } | undefined {
    const secret = randomBytes(32).toString('base64url');
    const now = Date.now();
    const changed = this.db
      .prepare(
        `UPDATE api_keys SET previous_hash = hash, previous_valid_until = ?, hash = ?, rotated_at = ? WHERE id = ?`,
      )
      .run(
        new Date(now + this.graceSeconds * 1000).toISOString(),
        digest(secret).toString('hex'),
        new Date(now).toISOString(),
        id,
      ).changes;
    return changed ? { key: this.get(id) as ApiKey, secret: `sck_${id}_${secret}` } : undefined;
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM api_keys WHERE id = ?').run(id).changes === 1;
  }

  /** The key a presented secret belongs to, or undefined. */
  verify(presented: string): ApiKey | undefined {
    if (presented.length > 512) return undefined;
    const match = KEY.exec(presented);
    const candidates: { row: Row; secret: string }[] = [];
    if (match && isId(match[1], 'key')) {
      const row = this.db.prepare('SELECT * FROM api_keys WHERE id = ?').get(match[1]) as Row | undefined;
      if (row) candidates.push({ row, secret: match[2] as string });
    } else {
      for (const row of this.db.prepare(`SELECT * FROM api_keys WHERE name = 'bootstrap'`).all() as Row[])
        candidates.push({ row, secret: `raw:${presented}` });
    }
    const now = new Date().toISOString();
    for (const { row, secret } of candidates) {
      const hash = digest(secret);
      const current = timingSafeEqual(hash, Buffer.from(row.hash, 'hex'));
      const previous =
        row.previous_hash !== null &&
        row.previous_valid_until !== null &&
        row.previous_valid_until > now &&
        timingSafeEqual(hash, Buffer.from(row.previous_hash, 'hex'));
      if (current || previous) {
        this.db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(now, row.id);
        return toKey({ ...row, last_used_at: now });
      }
    }
    return undefined;
  }
}
