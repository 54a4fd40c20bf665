// The embedded SQLite database (better-sqlite3): the catalog (identities, consent, motion priors, API keys) and the
// job queue. WAL journal with synchronous=FULL: a committed transition (a job claimed, finished) survives a crash
// of the process or of the machine. Schema changes are numbered migrations, applied once, in order, at open.
import Database from 'better-sqlite3';

export type Db = Database.Database;

const MIGRATIONS: string[] = [
  `CREATE TABLE identities (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     source TEXT NOT NULL,
     consent TEXT NOT NULL,
     prior_id TEXT,
     package_info TEXT,
     error TEXT
   );
   CREATE TABLE priors (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     created_at TEXT NOT NULL,
     is_default INTEGER NOT NULL DEFAULT 0,
     job_id TEXT,
     datasets TEXT NOT NULL,
     info TEXT
   );
   CREATE UNIQUE INDEX priors_one_default ON priors (is_default) WHERE is_default = 1;
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     hash TEXT NOT NULL,
     previous_hash TEXT,
     previous_valid_until TEXT,
     created_at TEXT NOT NULL,
     rotated_at TEXT,
     last_used_at TEXT,
     revoked_at TEXT
   );
   CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     state TEXT NOT NULL,
     priority INTEGER NOT NULL,
     device TEXT NOT NULL,
     identity_id TEXT,
     params TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     max_attempts INTEGER NOT NULL,
     timeout_seconds INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     owner TEXT,
     lease_until INTEGER,
     assigned_device TEXT,
     cancel_requested INTEGER NOT NULL DEFAULT 0,
     progress TEXT,
     error TEXT,
     result TEXT,
     seq INTEGER NOT NULL
   );
   CREATE INDEX jobs_queued ON jobs (state, priority DESC, seq);
   CREATE INDEX jobs_identity ON jobs (identity_id);
   CREATE TABLE job_logs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     job_id TEXT NOT NULL,
     at TEXT NOT NULL,
     level TEXT NOT NULL,
     message TEXT NOT NULL
   );
   CREATE INDEX job_logs_job ON job_logs (job_id, seq);`,
];

export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new Error(
      `${file} has schema version ${version}, newer than this server knows (${MIGRATIONS.length}): upgrade the server`,
    );
  }
  for (let v = version; v < MIGRATIONS.length; v++)
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  return db;
}
