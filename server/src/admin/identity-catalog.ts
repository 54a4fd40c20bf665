// The identities the admin path knows: name, state, the accepted source video, the consent record and, once
// adapted, what the package holds. Rows live in SQLite; the files live under DataDir.identity(id).
import type { Db } from '../storage/database.js';

export const IDENTITY_STATES = ['uploaded', 'adapting', 'ready', 'failed'] as const;
export type IdentityState = (typeof IDENTITY_STATES)[number];

export interface SourceVideo {
  /** The client's file name, for display only (never a path). */
  fileName: string;
  bytes: number;
  sha256: string;
  container: string;
  videoCodec: string;
  audioCodec: string;
  width: number;
  height: number;
  fps: number;
  durationSeconds: number;
}

export interface ConsentRecord {
  /** The person shown in the video. */
  subjectName: string;
  /** Who recorded the consent (operator, legal contact). */
  recordedBy: string;
  /** When the subject gave consent (ISO 8601). */
  recordedAt: string;
  /** What the subject consented to, in their words or the form's. */
  statement: string;
  evidence: { fileName: string; bytes: number; sha256: string; mediaType: string };
}

export interface PackageInfo {
  bytes: number;
  gaussians: { face: number; mouth: number };
  width: number;
  height: number;
  frames: number;
  createdAt: string;
}

export interface IdentityRecord {
  id: string;
  name: string;
  state: IdentityState;
  createdAt: string;
  updatedAt: string;
  source: SourceVideo;
  consent: ConsentRecord;
  priorId: string | null;
  package: PackageInfo | null;
  error: string | null;
}

interface Row {
  id: string;
  name: string;
  state: string;
  created_at: string;
  updated_at: string;
  source: string;
  consent: string;
  prior_id: string | null;
  package_info: string | null;
  error: string | null;
}

const toRecord = (r: Row): IdentityRecord => ({
  id: r.id,
  name: r.name,
  state: r.state as IdentityState,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  source: JSON.parse(r.source),
  consent: JSON.parse(r.consent),
  priorId: r.prior_id,
  package: r.package_info ? JSON.parse(r.package_info) : null,
  error: r.error,
});

export class IdentityCatalog {
  constructor(private readonly db: Db) {}

  create(record: Pick<IdentityRecord, 'id' | 'name' | 'source' | 'consent'>): IdentityRecord {
    const at = new Date().toISOString();
    this.db
      .prepare(
        `INSERT INTO identities (id, name, state, created_at, updated_at, source, consent)
         VALUES (?, ?, 'uploaded', ?, ?, ?, ?)`,
      )
      .run(record.id, record.name, at, at, JSON.stringify(record.source), JSON.stringify(record.consent));
    return this.get(record.id) as IdentityRecord;
  }

  get(id: string): IdentityRecord | undefined {
    const row = this.db.prepare('SELECT * FROM identities WHERE id = ?').get(id) as Row | undefined;
    return row && toRecord(row);
  }

  list(options: { state?: IdentityState; limit?: number; offset?: number } = {}): IdentityRecord[] {
    const rows = (
      options.state
        ? this.db
            .prepare('SELECT * FROM identities WHERE state = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?')
            .all(options.state, options.limit ?? 100, options.offset ?? 0)
        : this.db
            .prepare('SELECT * FROM identities ORDER BY created_at DESC, id LIMIT ? OFFSET ?')
            .all(options.limit ?? 100, options.offset ?? 0)
    ) as Row[];
    return rows.map(toRecord);
  }

  update(
    id: string,
    patch: Partial<Pick<IdentityRecord, 'name' | 'state' | 'priorId' | 'package' | 'error'>>,
  ): IdentityRecord | undefined {
    const sets: string[] = [];
    const args: unknown[] = [];
    const column = { name: 'name', state: 'state', priorId: 'prior_id', package: 'package_info', error: 'error' };
    for (const [key, value] of Object.entries(patch) as [keyof typeof column, unknown][]) {
      sets.push(`${column[key]} = ?`);
      args.push(key === 'package' && value !== null ? JSON.stringify(value) : value);
    }
    if (sets.length > 0)
      this.db
        .prepare(`UPDATE identities SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`)
        .run(...args, new Date().toISOString(), id);
    return this.get(id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM identities WHERE id = ?').run(id).changes === 1;
  }
}
