// Identities end to end: accepting an upload (every check before anything is kept), renaming, deleting with every
// derived file, and the identity side of adaptation jobs (state changes, package validation when training ends).
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadIdentity } from '@splatcast/engine';
import type { Logger } from 'pino';
import type { Job } from '../jobs/job.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { fsyncPath } from '../storage/atomic.js';
import { type DataDir, diskUsage } from '../storage/data-dir.js';
import { isId, newId } from '../storage/ids.js';
import { uploadsRejected } from './admin-metrics.js';
import { ApiError, notFound } from './api-error.js';
import type { AdminConfig } from './config.js';
import { parseConsent } from './consent.js';
import type { IdentityCatalog, IdentityRecord, PackageInfo } from './identity-catalog.js';
import type { SessionDirectory } from './session-directory.js';
import { evidenceType } from './upload/evidence.js';
import { inspectVideo, sha256File } from './upload/inspect.js';
import type { ReceivedUpload } from './upload/receive.js';
import { UploadRejected } from './upload/upload-error.js';

export interface IdentityServiceOptions {
  catalog: IdentityCatalog;
  queue: JobQueue;
  dataDir: DataDir;
  sessions: SessionDirectory;
  uploads: AdminConfig['uploads'];
  logger: Logger;
}

export class IdentityService {
  constructor(private readonly o: IdentityServiceOptions) {}

  get(id: string): IdentityRecord {
    const found = isId(id, 'idn') ? this.o.catalog.get(id) : undefined;
    if (!found) throw notFound('identity', id);
    return found;
  }

  /** Checks a received upload and keeps it as a new identity, or rejects it leaving nothing behind. */
  async create(upload: ReceivedUpload, staging: string): Promise<IdentityRecord> {
    try {
      const name = (upload.fields.name ?? '').trim();
      if (!name || name.length > 200)
        throw new UploadRejected('bad-request', 'the name field is required (1-200 characters)');
      const consent = parseConsent(upload.fields.consent);
      if (typeof consent === 'string') throw new UploadRejected('bad-request', consent);
      if (!upload.evidence)
        throw new UploadRejected('bad-request', 'the consent evidence file (field "evidence") is required');
      if (!upload.video) throw new UploadRejected('bad-request', 'the video file (field "video") is required');
      const mediaType = evidenceType(upload.evidence.head);
      const source = await inspectVideo(upload.video, this.o.uploads);
      const id = newId('idn');
      const paths = this.o.dataDir.identity(id);
      // The identity folder is assembled in the upload's own folder and renamed into place whole.
      await mkdir(path.join(staging, 'kept', 'source'), { recursive: true });
      await mkdir(path.join(staging, 'kept', 'consent'), { recursive: true });
      await rename(upload.video.path, path.join(staging, 'kept', 'source', 'video'));
      await rename(upload.evidence.path, path.join(staging, 'kept', 'consent', 'evidence'));
      await fsyncPath(path.join(staging, 'kept', 'source', 'video'));
      await fsyncPath(path.join(staging, 'kept', 'consent', 'evidence'));
      await rename(path.join(staging, 'kept'), paths.root);
      await fsyncPath(path.dirname(paths.root));
      try {
        return this.o.catalog.create({
          id,
          name,
          source,
          consent: {
            ...consent,
            evidence: {
              fileName: upload.evidence.fileName,
              bytes: upload.evidence.bytes,
              sha256: await sha256File(paths.evidence),
              mediaType,
            },
          },
        });
      } catch (error) {
        await this.o.dataDir.remove(paths.root);
        throw error;
      }
    } catch (error) {
      if (error instanceof UploadRejected) uploadsRejected.inc({ reason: error.code });
      throw error;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  rename(id: string, name: string): IdentityRecord {
    this.get(id);
    return this.o.catalog.update(id, { name }) as IdentityRecord;
  }

  /** Stops its jobs and sessions, then removes the record and every file: source, consent, dataset, checkpoints,
   * package. */
  async delete(id: string): Promise<{ freedBytes: number }> {
    const identity = this.get(id);
    const active = (await this.o.queue.list({ identityId: id, limit: 1000 })).filter(
      (j) => j.state === 'queued' || j.state === 'running',
    );
    for (const job of active) await this.o.queue.cancel(job.id, `identity ${id} was deleted`);
    const deadline = performance.now() + 20_000;
    for (const job of active)
      while ((await this.o.queue.get(job.id))?.state === 'running') {
        if (performance.now() > deadline)
          throw new ApiError('conflict', `job ${job.id} of this identity has not stopped yet; delete again shortly`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    for (const session of await this.o.sessions.list())
      if (session.identityId === id) await this.o.sessions.kick(session.id, 'the identity was deleted');
    const paths = this.o.dataDir.identity(identity.id);
    const freedBytes = await diskUsage(paths.root);
    this.o.catalog.delete(id);
    await this.o.dataDir.remove(paths.root);
    this.o.logger.info({ identityId: id, freedBytes }, 'identity deleted');
    return { freedBytes };
  }

  /** An adaptation job was queued for the identity. */
  adapting(id: string): void {
    this.o.catalog.update(id, { state: 'adapting', error: null });
  }

  /** Training finished: the package must load (every check of loadIdentity) before the identity is ready. */
  async adapted(job: Job): Promise<void> {
    const id = job.identityId as string;
    const paths = this.o.dataDir.identity(id);
    let info: PackageInfo;
    try {
      const identity = await loadIdentity(paths.package);
      const m = identity.manifest;
      info = {
        bytes: await diskUsage(paths.package),
        gaussians: { face: m.gaussians.face, mouth: m.gaussians.mouth },
        width: m.render.width,
        height: m.render.height,
        frames: m.tracks.pose.length,
        createdAt: m.createdAt,
      };
    } catch (error) {
      throw new Error(`the trained package does not load: ${(error as Error).message}`);
    }
    this.o.catalog.update(id, {
      state: 'ready',
      package: info,
      error: null,
      priorId: (job.params.priorId as string) ?? null,
    });
  }

  /** An adaptation job failed or was cancelled: the identity keeps an earlier package if it has one. */
  async adaptationEnded(job: Job): Promise<void> {
    const id = job.identityId as string;
    const identity = this.o.catalog.get(id);
    if (!identity) return;
    const hasPackage = await stat(this.o.dataDir.identity(id).package).then(
      () => true,
      () => false,
    );
    this.o.catalog.update(id, {
      state: hasPackage && identity.package ? 'ready' : 'failed',
      error: `adaptation job ${job.id} ${job.state}: ${job.error ?? ''}`.trim(),
    });
  }
}
