// Everything the admin routes work with, built once by AdminServer.
import type { Logger } from 'pino';
import type { JobQueue } from '../jobs/job-queue.js';
import type { JobRunner } from '../jobs/job-runner.js';
import type { DataDir } from '../storage/data-dir.js';
import type { Db } from '../storage/database.js';
import type { ApiKeys } from './api-keys.js';
import type { AdminConfig } from './config.js';
import type { IdentityCatalog } from './identity-catalog.js';
import type { IdentityService } from './identity-service.js';
import type { PriorCatalog } from './prior-catalog.js';
import type { SessionDirectory } from './session-directory.js';
import type { TokenMinter } from './token-minter.js';
import type { ResumableUploads } from './upload/resumable.js';

export interface AdminContext {
  config: AdminConfig;
  dataDir: DataDir;
  db: Db;
  queue: JobQueue;
  runner: JobRunner;
  catalog: IdentityCatalog;
  identities: IdentityService;
  priors: PriorCatalog;
  keys: ApiKeys;
  minter: TokenMinter;
  sessions: SessionDirectory;
  resumable: ResumableUploads;
  logger: Logger;
}
