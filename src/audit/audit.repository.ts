import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PrismaService } from '../persistence/prisma.service';
import type { Transaction } from '../persistence/transaction';
import type { AuditAction, AuditEntry, AuditRecord } from './audit.types';

const INSERT = `INSERT INTO audit_log (actor_sub, actor_name, actor_email, actor_via, action, target, outcome, request_id, details)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`;

const parameters = (record: AuditRecord): unknown[] => [
  record.actor.sub,
  record.actor.name,
  record.actor.email,
  record.actor.via,
  record.action,
  record.target,
  record.outcome,
  record.requestId,
  JSON.stringify(record.details),
];

export interface AuditFilter {
  actor?: string;
  action?: AuditAction;
  target?: string;
  beforeId?: bigint;
  limit: number;
}

/** The append-only `audit_log` table: rows are inserted, read, never changed (a trigger refuses UPDATE/DELETE/TRUNCATE). */
@Injectable()
export class AuditRepository {
  private readonly pool: Pool;

  constructor(prisma: PrismaService) {
    this.pool = prisma.pool;
  }

  /** Appends a row, committed on its own or as part of `tx`. */
  async append(record: AuditRecord, tx?: Transaction): Promise<void> {
    await (tx ?? this.pool).query(INSERT, parameters(record));
  }

  /** Inserts the row and rolls it back: proves, before an action, that its audit row can be written now. */
  async rehearse(record: AuditRecord): Promise<void> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query(INSERT, parameters(record));
    } finally {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      client.release(broken);
    }
  }

  /** Newest first, exact-match filters, keyset on the id (one index per filter). */
  async list(filter: AuditFilter): Promise<{ rows: AuditEntry[]; hasMore: boolean }> {
    const { rows } = await this.pool.query(
      `SELECT a.id::text AS id, a.at, a.actor_sub, a.actor_name, a.actor_email, a.actor_via, a.action, a.target, a.outcome, a.request_id, a.details
       FROM audit_log a
       WHERE ($1::text IS NULL OR a.actor_sub = $1) AND ($2::text IS NULL OR a.action = $2) AND ($3::text IS NULL OR a.target = $3)
         AND ($4::bigint IS NULL OR a.id < $4)
       ORDER BY a.id DESC LIMIT $5`,
      [filter.actor ?? null, filter.action ?? null, filter.target ?? null, filter.beforeId?.toString() ?? null, filter.limit + 1],
    );
    return { rows: rows.slice(0, filter.limit).map(toEntry), hasMore: rows.length > filter.limit };
  }
}

function toEntry(row: Record<string, any>): AuditEntry {
  return {
    id: row.id,
    at: (row.at as Date).toISOString(),
    actor: { sub: row.actor_sub, name: row.actor_name, email: row.actor_email, via: row.actor_via },
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    requestId: row.request_id,
    details: row.details,
  };
}
