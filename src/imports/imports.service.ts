import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { decodePageCursor, encodePageCursor } from '../common/page-cursor';
import { NotFoundError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { ImportRepository } from './import.repository';
import type { ImportFormat } from './import-parser';
import { importView } from './import-progress';
import type { ImportRowErrorView, ImportView } from './import.types';
import { parsedBatches } from './row-batch';
import { TooManyUploadsError, UploadIdleError } from './import.errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Bulk onboarding: an upload becomes PENDING signups (driven by ImportWorker) and row errors, atomically. */
@Injectable()
export class ImportsService {
  /** Uploads being staged on this replica (each on a connection of its own, outside the pool). */
  private uploads = 0;

  constructor(
    private readonly repository: ImportRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Stages the file (nothing is visible unless the whole file was read and staged), then moves its rows into signups.
   * At most IMPORT_MAX_UPLOADS at once (more: 429); an upload that sends nothing for IMPORT_IDLE_TIMEOUT_MS is aborted.
   */
  async create(body: Readable, format: ImportFormat): Promise<ImportView> {
    if (this.uploads >= this.config.importMaxUploads) throw new TooManyUploadsError(Math.max(1, Math.ceil(this.config.importIdleTimeoutMs / 1000 / 6)));
    this.uploads += 1;
    try {
      const id = randomUUID();
      const limits = { maxRows: this.config.importMaxRows, maxBytes: this.config.importMaxBytes };
      const watched = idleWatched(body, this.config.importIdleTimeoutMs);
      try {
        await this.repository.stage(id, async (staging) => {
          for await (const batch of parsedBatches(watched.stream, format, limits)) {
            watched.touch();
            await staging.add(batch);
          }
          watched.stop();
          return staging.commit();
        });
      } finally {
        watched.stop();
      }
      return await this.get(id);
    } finally {
      this.uploads -= 1;
    }
  }

  async get(id: string): Promise<ImportView> {
    const record = UUID.test(id) ? await this.repository.find(id.toLowerCase()) : null;
    if (record === null) throw new NotFoundError(`No import ${JSON.stringify(id)}`);
    return importView(record, this.config.importCapaRps);
  }

  async list(limit: number): Promise<{ items: ImportView[] }> {
    const records = await this.repository.list(limit);
    return { items: records.map((record) => importView(record, this.config.importCapaRps)) };
  }

  async rowErrors(id: string, cursor: string | undefined, limit: number): Promise<{ items: ImportRowErrorView[]; nextCursor: string | null }> {
    await this.get(id);
    const afterLine = cursor === undefined ? 0 : Number(decodePageCursor(cursor) ?? 0);
    const rows = await this.repository.rowErrors(id.toLowerCase(), afterLine, limit);
    const page = rows.slice(0, limit);
    return {
      items: page.map(({ line, externalUserId, code, message, details }) => ({
        line,
        ...(externalUserId !== null ? { externalUserId } : {}),
        code,
        message,
        details,
      })),
      nextCursor: rows.length > limit ? encodePageCursor(BigInt(page[page.length - 1].line)) : null,
    };
  }

  /** Withdraws the rows not yet sent to Capa; rows already sent finish. Cancelling a finished import changes nothing. */
  async cancel(id: string): Promise<ImportView> {
    await this.get(id);
    await this.repository.cancel(id.toLowerCase());
    return this.get(id);
  }
}

/**
 * The body as read through a pass-through that notices silence: when no byte arrives (and no batch is stored) for
 * `idleMs`, the upload is aborted with UploadIdleError (the request is destroyed, its staging dropped).
 */
function idleWatched(body: Readable, idleMs: number): { stream: Readable; touch: () => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stream = new Transform({
    transform(chunk, _encoding, done) {
      touch();
      done(null, chunk);
    },
  });
  const abort = () => {
    const error = new UploadIdleError(idleMs);
    stream.destroy(error);
    body.destroy();
  };
  const touch = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(abort, idleMs);
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  body.on('error', (error) => stream.destroy(error));
  body.pipe(stream);
  touch();
  return { stream, touch, stop };
}
