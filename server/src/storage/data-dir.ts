// The storage layout: everything the admin path keeps lives under one data directory (docs/admin-api.md draws it).
// Paths are built here only, from validated ids and fixed names; nothing a client sends becomes a path component.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type IdKind, isId } from './ids.js';

/** Where the parts of one identity live. */
export interface IdentityPaths {
  root: string;
  /** The validated source video (read-only once accepted). */
  source: string;
  /** The consent evidence file. */
  evidence: string;
  /** `splatcast prepare` output. */
  dataset: string;
  /** Training checkpoints (resume after a restart). */
  checkpoints: string;
  /** The identity package the streaming server loads. */
  package: string;
}

export class StorageError extends Error {
  override name = 'StorageError';
}

export class DataDir {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** The SQLite file holding the catalog and the job queue. */
  get database(): string {
    return path.join(this.root, 'splatcast.db');
  }

  /** Uploads in flight; emptied at every start (an upload cut by a restart is gone). */
  get incoming(): string {
    return path.join(this.root, 'incoming');
  }

  /** Resumable (tus) uploads: kept across restarts until used or expired. */
  get uploads(): string {
    return path.join(this.root, 'uploads');
  }

  identity(id: string): IdentityPaths {
    const root = this.inside('identities', checked(id, 'idn'));
    return {
      root,
      source: path.join(root, 'source', 'video'),
      evidence: path.join(root, 'consent', 'evidence'),
      dataset: path.join(root, 'dataset'),
      checkpoints: path.join(root, 'checkpoints'),
      package: path.join(root, 'package'),
    };
  }

  /** A motion prior package (pre-training output). */
  prior(id: string): string {
    return this.inside('priors', checked(id, 'pri'));
  }

  /** Scratch space of one job (pre-training checkpoints, intermediate datasets). */
  job(id: string): string {
    return this.inside('jobs', checked(id, 'job'));
  }

  /**
   * Creates the layout and clears what a previous run left half-done: uploads in flight, and staging folders
   * (dot-names) of atomic writes a crash interrupted.
   */
  async prepare(): Promise<void> {
    await mkdir(this.uploads, { recursive: true });
    for (const dir of ['identities', 'priors', 'jobs']) {
      const folder = path.join(this.root, dir);
      await mkdir(folder, { recursive: true });
      for (const entry of await readdir(folder))
        if (entry.startsWith('.')) await rm(path.join(folder, entry), { recursive: true, force: true });
    }
    await rm(this.incoming, { recursive: true, force: true });
    await mkdir(this.incoming, { recursive: true });
  }

  /** Removes a folder this layout owns, and everything in it. */
  async remove(dir: string): Promise<void> {
    this.assertInside(dir);
    await rm(dir, { recursive: true, force: true });
  }

  /** Joins fixed segments under the root and checks the result stays there. */
  inside(...segments: string[]): string {
    const joined = path.resolve(this.root, ...segments);
    this.assertInside(joined);
    return joined;
  }

  private assertInside(target: string): void {
    const relative = path.relative(this.root, path.resolve(target));
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative))
      throw new StorageError(`refusing a path outside the data directory: ${target}`);
  }
}

function checked(id: string, kind: IdKind): string {
  if (!isId(id, kind)) throw new StorageError(`not a valid ${kind} id: ${JSON.stringify(id).slice(0, 60)}`);
  return id;
}

/** Bytes used by the files under `dir` (0 when absent). */
export async function diskUsage(dir: string): Promise<number> {
  const info = await stat(dir).catch(() => null);
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) total += await diskUsage(path.join(dir, entry.name));
  return total;
}
