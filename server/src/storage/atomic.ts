// Atomic file and folder publication: content is written under a temporary sibling name, flushed to disk, then
// renamed into place (rename is atomic within one file system), and the parent folder is flushed so the rename
// itself survives a power cut. Readers see the old content or the new, never half of it.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** A temporary sibling of `target`: same folder (same file system), a name no reader looks for. */
export function stagingPath(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.staging-${randomBytes(6).toString('hex')}`);
}

/** Flushes a file or folder to disk. */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const staging = stagingPath(target);
  try {
    const handle = await open(staging, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(staging, target);
    await fsyncPath(path.dirname(target));
  } catch (error) {
    await rm(staging, { force: true });
    throw error;
  }
}

/**
 * Moves a complete file or folder (`staging`, already flushed) to `target`, replacing what was there: the old one
 * is renamed aside first and removed after. `target` is briefly absent, never half-written.
 */
export async function publish(staging: string, target: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const aside = stagingPath(target);
  const hadOld = await rename(target, aside).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  await rename(staging, target);
  await fsyncPath(path.dirname(target));
  if (hadOld) await rm(aside, { recursive: true, force: true });
}
