import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { decodePageCursor, encodePageCursor } from '../admin/page-cursor';
import { NotFoundError } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { ImportRepository } from '../persistence/import.repository';
import type { ImportFormat } from './import-parser';
import { importView } from './import-progress';
import type { ImportRowErrorView, ImportView } from './import.types';
import { parsedBatches } from './row-batch';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Bulk onboarding: an upload becomes PENDING signups (driven by ImportWorker) and row errors, atomically. */
@Injectable()
export class ImportsService {
  constructor(
    private readonly repository: ImportRepository,
    private readonly config: AppConfig,
  ) {}

  /** Streams the file into one transaction; nothing is visible unless the whole file was read and staged. */
  async create(body: Readable, format: ImportFormat): Promise<ImportView> {
    const id = randomUUID();
    const limits = { maxRows: this.config.importMaxRows, maxBytes: this.config.importMaxBytes };
    await this.repository.stage(id, async (staging) => {
      for await (const batch of parsedBatches(body, format, limits)) await staging.add(batch);
      return staging.commit();
    });
    return this.get(id);
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
