// Secrets the admin path makes for itself on first start when the configuration gives none: the first admin API key
// and the client-token signing secret, each in its own file under the data directory, readable by the owner only.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../storage/atomic.js';

/** The file's content, or a new random secret written there (0600) first. */
export async function persistentSecret(file: string): Promise<string> {
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const secret = randomBytes(32).toString('base64url');
  await writeFileAtomic(file, `${secret}\n`, 0o600);
  return secret;
}
