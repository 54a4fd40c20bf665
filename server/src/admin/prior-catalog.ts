// Motion priors: pre-trained universal motion fields that adaptation starts from. One may be the default (a
// partial unique index in SQLite keeps it to one).
import type { Db } from '../storage/database.js';

export interface MotionPrior {
  id: string;
  name: string;
  createdAt: string;
  isDefault: boolean;
  /** The pre-training job that made it. */
  jobId: string | null;
  /** Identities whose datasets it was trained on. */
  datasets: string[];
  info: Record<string, unknown> | null;
}

interface Row {
  id: string;
  name: string;
  created_at: string;
  is_default: number;
  job_id: string | null;
  datasets: string;
  info: string | null;
}

const toPrior = (r: Row): MotionPrior => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  isDefault: r.is_default === 1,
  jobId: r.job_id,
  datasets: JSON.parse(r.datasets),
  info: r.info ? JSON.parse(r.info) : null,
});

export class PriorCatalog {
  constructor(private readonly db: Db) {}

  add(prior: Omit<MotionPrior, 'createdAt' | 'isDefault'>): MotionPrior {
    this.db
      .prepare('INSERT INTO priors (id, name, created_at, job_id, datasets, info) VALUES (?, ?, ?, ?, ?, ?)')
      .run(
        prior.id,
        prior.name,
        new Date().toISOString(),
        prior.jobId,
        JSON.stringify(prior.datasets),
        prior.info && JSON.stringify(prior.info),
      );
    return this.get(prior.id) as MotionPrior;
  }

  get(id: string): MotionPrior | undefined {
    const row = this.db.prepare('SELECT * FROM priors WHERE id = ?').get(id) as Row | undefined;
    return row && toPrior(row);
  }

  list(): MotionPrior[] {
    return (this.db.prepare('SELECT * FROM priors ORDER BY created_at DESC, id').all() as Row[]).map(toPrior);
  }

  default(): MotionPrior | undefined {
    const row = this.db.prepare('SELECT * FROM priors WHERE is_default = 1').get() as Row | undefined;
    return row && toPrior(row);
  }

  setDefault(id: string): MotionPrior | undefined {
    this.db.transaction(() => {
      this.db.prepare('UPDATE priors SET is_default = 0 WHERE is_default = 1').run();
      this.db.prepare('UPDATE priors SET is_default = 1 WHERE id = ?').run(id);
    })();
    return this.get(id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM priors WHERE id = ?').run(id).changes === 1;
  }
}
