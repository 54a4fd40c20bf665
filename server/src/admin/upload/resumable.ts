// Resumable uploads with the tus protocol (tus.io, v1.0.0; @tus/server and its file store): a client creates an
// upload (POST /v1/uploads, Upload-Length), sends it in PATCH chunks, and after a dropped connection or a server
// restart asks how far it got (HEAD) and goes on from there. A finished upload is then named, by id, in a JSON
// `POST /v1/identities`, which runs the same checks as a multipart upload. Uploads never served back (no GET) and
// expire after `ttlHours` unused.
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { DataDir } from '../../storage/data-dir.js';
import { isId, newId } from '../../storage/ids.js';
import { ApiError } from '../api-error.js';
import { displayName, type ReceivedFile, readHead } from './receive.js';
import { UploadRejected } from './upload-error.js';

export const UPLOADS_PATH = '/v1/uploads';

export interface ResumableOptions {
  dataDir: DataDir;
  maxBytes: number;
  ttlHours: number;
  logger: Logger;
}

export class ResumableUploads {
  private readonly store: FileStore;
  private readonly tus: Server;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: ResumableOptions) {
    this.store = new FileStore({
      directory: o.dataDir.uploads,
      expirationPeriodInMilliseconds: o.ttlHours * 3600_000,
    });
    this.tus = new Server({
      path: UPLOADS_PATH,
      datastore: this.store,
      maxSize: o.maxBytes,
      relativeLocation: true,
      respectForwardedHeaders: false,
      namingFunction: () => newId('upl'),
      // Ids we did not issue never reach the store.
      getFileIdFromRequest: (request) => {
        const id = new URL(request.url).pathname.slice(UPLOADS_PATH.length + 1);
        return isId(id, 'upl') ? id : undefined;
      },
    });
    this.sweeper = setInterval(() => void this.sweep(), 3600_000);
    this.sweeper.unref();
    void this.sweep();
  }

  private async sweep(): Promise<void> {
    const removed = await this.tus.cleanUpExpiredUploads().catch(() => 0);
    if (removed) this.o.logger.info({ removed }, 'expired resumable uploads removed');
  }

  /** Serves the tus protocol under UPLOADS_PATH (behind the API-key hook like every /v1 route). */
  register(app: FastifyInstance): void {
    // tus reads PATCH bodies itself, straight from the socket.
    app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      try {
        await this.tus.handle(request.raw, reply.raw);
      } catch (error) {
        // The reply is ours now (hijacked): answer here, or the client would wait forever. tus throws for requests
        // it cannot even turn into a web Request (a header value outside Latin-1, say).
        request.log.info({ err: error }, 'resumable upload request refused');
        const res = reply.raw;
        if (res.headersSent) res.destroy();
        else
          res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': request.id }).end(
            JSON.stringify({
              error: {
                code: 'bad-request',
                message: `malformed upload request: ${(error as Error).message}`,
                requestId: request.id,
              },
            }),
          );
      }
    };
    const schema = (summary: string) => ({ schema: { summary, tags: ['uploads'] } });
    app.post(
      UPLOADS_PATH,
      schema('Create a resumable upload (tus 1.0.0: Upload-Length, Upload-Metadata filename)'),
      handler,
    );
    app.head(`${UPLOADS_PATH}/:id`, schema('How much of an upload arrived (Upload-Offset)'), handler);
    app.patch(
      `${UPLOADS_PATH}/:id`,
      schema('Append a chunk at Upload-Offset (application/offset+octet-stream)'),
      handler,
    );
    app.delete(`${UPLOADS_PATH}/:id`, schema('Abandon an upload'), handler);
  }

  /**
   * Moves a finished upload into `dir` as `name`, for the identity checks; rejects unknown or unfinished ones.
   */
  async take(id: unknown, dir: string, name: 'video' | 'evidence', maxBytes: number): Promise<ReceivedFile> {
    if (!isId(id, 'upl')) throw new UploadRejected('bad-request', `${name}: not an upload id`);
    const upload = await this.store.getUpload(id).catch(() => undefined);
    if (!upload) throw new ApiError('not-found', `no upload ${id} (it may have expired)`);
    if (upload.size === undefined || upload.offset !== upload.size)
      throw new ApiError('conflict', `upload ${id} is not finished: ${upload.offset} of ${upload.size ?? '?'} bytes`);
    if (upload.size > maxBytes)
      throw new UploadRejected(
        'too-large',
        `the ${name} is larger than the limit of ${(maxBytes / 2 ** 20).toFixed(0)} MiB`,
      );
    const target = path.join(dir, name);
    await rename(path.join(this.o.dataDir.uploads, id), target);
    await rm(path.join(this.o.dataDir.uploads, `${id}.json`), { force: true });
    return {
      path: target,
      fileName: displayName(upload.metadata?.filename ?? upload.metadata?.name ?? name),
      ...(await readHead(target)),
    };
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
