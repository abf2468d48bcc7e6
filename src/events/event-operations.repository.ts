import { Injectable } from '@nestjs/common';
import { PrismaService } from '../persistence/prisma.service';
import type { DeliveryStatus } from './event.types';
import type { DeliveryView, EndpointSummary } from './event.types';

const DELIVERY_COLUMNS = `
  d.id::text AS "deliveryId", d.event_id AS "eventId", e.type, e.external_user_id AS "externalUserId",
  e.occurred_at AS "occurredAt", d.endpoint, d.status, d.attempts, d.last_error AS "lastError",
  d.last_attempt_at AS "lastAttemptAt", CASE WHEN d.status = 'PENDING' THEN d.next_attempt_at END AS "nextAttemptAt",
  d.delivered_at AS "deliveredAt"`;

const iso = (value: unknown): string | null => (value instanceof Date ? value.toISOString() : null);

function toView(row: Record<string, unknown>): DeliveryView {
  return {
    ...(row as unknown as DeliveryView),
    occurredAt: iso(row.occurredAt)!,
    lastAttemptAt: iso(row.lastAttemptAt),
    nextAttemptAt: iso(row.nextAttemptAt),
    deliveredAt: iso(row.deliveredAt),
  };
}

/** Operators' reads and repairs of event deliveries, their numbers, and retention. */
@Injectable()
export class EventOperationsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Newest first, keyset on the delivery id (index event_deliveries_status_id_idx with a status). */
  async listDeliveries(filter: { status?: DeliveryStatus; endpoint?: string; beforeId?: bigint; limit: number }): Promise<{ rows: DeliveryView[]; hasMore: boolean }> {
    const { rows } = await this.prisma.pool.query(
      `SELECT ${DELIVERY_COLUMNS} FROM event_deliveries d JOIN outbox_events e ON e.id = d.event_id
       WHERE ($1::text IS NULL OR d.status = $1) AND ($2::text IS NULL OR d.endpoint = $2) AND ($3::bigint IS NULL OR d.id < $3)
       ORDER BY d.id DESC LIMIT $4`,
      [filter.status ?? null, filter.endpoint ?? null, filter.beforeId?.toString() ?? null, filter.limit + 1],
    );
    return { rows: rows.slice(0, filter.limit).map(toView), hasMore: rows.length > filter.limit };
  }

  /**
   * Sends an event again to the given endpoints: their deliveries go back to PENDING, due now, with a new retry
   * window; an endpoint that never had one gets one. One being sent at this moment stays with that send (DELIVERED
   * when it is acknowledged, else due again after its backoff): one event never goes to one endpoint twice at once.
   * Null when the event does not exist (or was pruned).
   */
  async redeliver(eventId: string, endpoints: readonly string[], retryWindowMs: number): Promise<DeliveryView[] | null> {
    const { rows } = await this.prisma.pool.query(
      `WITH event AS (SELECT id, external_user_id FROM outbox_events WHERE id = $1),
       -- The acknowledged attempt a reset clears from its row is kept (read before the reset: one snapshot).
       kept AS (
         INSERT INTO event_delivery_attempts (delivery_id, external_user_id, attempt, at, outcome)
         SELECT id, external_user_id, attempts, delivered_at, 'delivered' FROM event_deliveries
         WHERE event_id = $1 AND endpoint = ANY($2::text[]) AND status = 'DELIVERED' AND delivered_at IS NOT NULL
       ),
       reset AS (
         INSERT INTO event_deliveries (event_id, endpoint, give_up_at, external_user_id)
         SELECT event.id, url, now() + $3::bigint * interval '1 millisecond', event.external_user_id FROM event, unnest($2::text[]) AS url
         ON CONFLICT (event_id, endpoint) DO UPDATE
           SET status = 'PENDING', next_attempt_at = now(), give_up_at = EXCLUDED.give_up_at, delivered_at = NULL,
               -- A delivery being sent right now keeps its lease: no second send of it starts while that one runs.
               lease_owner = CASE WHEN event_deliveries.lease_until > now() THEN event_deliveries.lease_owner END,
               lease_until = CASE WHEN event_deliveries.lease_until > now() THEN event_deliveries.lease_until END
         RETURNING id
       )
       SELECT (SELECT count(*) FROM event)::int AS found, (SELECT count(*) FROM reset)::int AS reset`,
      [eventId, endpoints, retryWindowMs],
    );
    if (rows[0].found === 0) return null;
    const deliveries = await this.prisma.pool.query(
      `SELECT ${DELIVERY_COLUMNS} FROM event_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.event_id = $1 ORDER BY d.endpoint`,
      [eventId],
    );
    return deliveries.rows.map(toView);
  }

  /** Per configured endpoint: deliveries by status, what it still owes and since when. */
  async summarise(endpoints: readonly string[]): Promise<EndpointSummary[]> {
    if (endpoints.length === 0) return [];
    const { rows } = await this.prisma.pool.query<{ endpoint: string; pending: number; delivered: number; failed: number; unscheduled: number; oldest: Date | null }>(
      `SELECT url AS endpoint,
         (SELECT count(*) FROM event_deliveries d WHERE d.endpoint = url AND d.status = 'PENDING')::int AS pending,
         (SELECT count(*) FROM event_deliveries d WHERE d.endpoint = url AND d.status = 'DELIVERED')::int AS delivered,
         (SELECT count(*) FROM event_deliveries d WHERE d.endpoint = url AND d.status = 'FAILED')::int AS failed,
         (SELECT count(*) FROM outbox_events e, event_endpoints ep
          WHERE ep.url = u.url AND (e.writer_xid, e.position) > (ep.cursor_xid, ep.cursor_position))::int AS unscheduled,
         LEAST(
           (SELECT min(e.occurred_at) FROM event_deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE d.endpoint = url AND d.status = 'PENDING'),
           (SELECT min(e.occurred_at) FROM outbox_events e, event_endpoints ep
            WHERE ep.url = u.url AND (e.writer_xid, e.position) > (ep.cursor_xid, ep.cursor_position))
         ) AS oldest
       FROM unnest($1::text[]) AS u(url)`,
      [endpoints],
    );
    return rows.map((row) => ({
      endpoint: row.endpoint,
      pending: row.pending,
      delivered: row.delivered,
      failed: row.failed,
      backlog: row.pending + row.unscheduled,
      oldestUndeliveredAt: iso(row.oldest),
    }));
  }

  /**
   * Deletes up to `limit` events older than `retentionDays` that every configured endpoint has (no delivery of them
   * other than DELIVERED, no endpoint's cursor before them); their deliveries go with them. Answers how many.
   */
  async pruneDelivered(retentionDays: number, endpoints: readonly string[], limit: number): Promise<number> {
    const { rowCount } = await this.prisma.pool.query(
      `DELETE FROM outbox_events WHERE id IN (
         SELECT e.id FROM outbox_events e
         WHERE e.occurred_at < now() - $1::int * interval '1 day'
           AND NOT EXISTS (SELECT 1 FROM event_deliveries d WHERE d.event_id = e.id AND d.status <> 'DELIVERED')
           AND NOT EXISTS (SELECT 1 FROM event_endpoints ep
                           WHERE ep.url = ANY($2::text[]) AND (e.writer_xid, e.position) > (ep.cursor_xid, ep.cursor_position))
         ORDER BY e.occurred_at
         LIMIT $3
         FOR UPDATE SKIP LOCKED)`,
      [retentionDays, endpoints, limit],
    );
    return rowCount ?? 0;
  }
}
