import { Injectable } from '@nestjs/common';
import type { OutboxEventInput } from './event.types';
import { tracing } from '../tracing/tracing';

/**
 * Something that runs SQL inside the caller's open transaction: a pg client (or pool, for a single statement)
 * or a Prisma interactive transaction. The outbox row commits or rolls back with the caller's change.
 */
export type OutboxExecutor =
  | { query(text: string, values: unknown[]): Promise<unknown> }
  | { $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> };

/**
 * The outbox INSERT for the events given as a JSON array (OutboxEventInput[]) in the parameter `param`; writer_xid and
 * position come from the column defaults. Also spliced into other statements as a data-modifying CTE, so a change and
 * its events commit in one round trip.
 */
export function outboxInsertFromJson(param: string): string {
  return `
  INSERT INTO outbox_events (type, external_user_id, user_id, data, occurred_at, trace_parent)
  SELECT e.type, e."externalUserId", e."userId", e.data, coalesce(e."occurredAt", now()), e."traceParent"
  FROM jsonb_to_recordset(${param}::jsonb) AS e(type text, "externalUserId" text, "userId" text, data jsonb, "occurredAt" timestamptz, "traceParent" text)`;
}

const APPEND = outboxInsertFromJson('$1');

/** Appends events to the transactional outbox inside the caller's transaction (see OutboxExecutor). */
@Injectable()
export class OutboxWriter {
  async append(executor: OutboxExecutor, events: readonly OutboxEventInput[]): Promise<void> {
    if (events.length === 0) return;
    // With tracing on, each event keeps the writer's traceparent (its pushes link to it); off, nothing is added.
    const traceParent = tracing.traceparent();
    const json = JSON.stringify(traceParent === undefined ? events : events.map((event) => ({ traceParent, ...event })));
    if ('$executeRawUnsafe' in executor) await executor.$executeRawUnsafe(APPEND, json);
    else await executor.query(APPEND, [json]);
  }
}
