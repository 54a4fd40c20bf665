// Which identity package a session renders. The streaming server needs only this lookup; where packages come from
// is the resolver's business: the admin API's adapted identities (<dataDir>/identities/<id>/package) and the
// built-in generated fixture (id "fixture", <dataDir>/fixtures/default), which is a test head, not a person.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DataDir } from '../storage/data-dir.js';
import { isId } from '../storage/ids.js';

export interface ResolvedIdentity {
  id: string;
  /** The identity package directory the engine loads. */
  dir: string;
  name: string;
  /** A generated test identity (random Gaussians), not anyone's likeness. */
  fixture: boolean;
}

export interface IdentityResolver {
  resolve(id: string): Promise<ResolvedIdentity | undefined>;
  /** What a demo or an operator may pick from. */
  list(): Promise<ResolvedIdentity[]>;
}

export const FIXTURE_ID = 'fixture';

async function manifestOf(dir: string): Promise<{ name?: string; kind?: string } | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'identity.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

export class DataDirIdentityResolver implements IdentityResolver {
  private readonly data: DataDir;

  constructor(root: string) {
    this.data = new DataDir(root);
  }

  get fixtureDir(): string {
    return path.join(this.data.root, 'fixtures', 'default');
  }

  async resolve(id: string): Promise<ResolvedIdentity | undefined> {
    let dir: string;
    if (id === FIXTURE_ID) dir = this.fixtureDir;
    else if (isId(id, 'idn')) dir = this.data.identity(id).package;
    else return undefined;
    const manifest = await manifestOf(dir);
    if (!manifest) return undefined;
    return { id, dir, name: manifest.name ?? id, fixture: manifest.kind === 'fixture' };
  }

  async list(): Promise<ResolvedIdentity[]> {
    const out: ResolvedIdentity[] = [];
    const fixture = await this.resolve(FIXTURE_ID);
    if (fixture) out.push(fixture);
    const root = path.join(this.data.root, 'identities');
    if (!existsSync(root)) return out;
    for (const entry of await readdir(root)) {
      const identity = await this.resolve(entry);
      if (identity) out.push(identity);
    }
    return out;
  }
}
