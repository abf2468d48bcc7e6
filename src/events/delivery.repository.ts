import { Injectable } from '@nestjs/common';
import { PrismaService } from '../persistence/prisma.service';
import type { EventType, EventView } from './event.types';
import { toEventView } from './event-feed.repository';

/** A delivery claimed for one attempt: the event to send and who holds it. */
export interface ClaimedDelivery {
  deliveryId: string;
  attempts: number;
  event: EventView;
}

/** The delivery states operators see. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const ms = (param: string) => `${param}::bigint * interval '1 millisecond'`;

/**
 * The push side's rows. Delivery rows are created lazily, by the deliverer following the feed past its endpoint's
 * cursor in commit order, so a new signup pays for one outbox row and no more, however many endpoints there are.
 */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A new endpoint starts at the feed's current end: events already committed are for the pull feed. */
  async registerEndpoints(urls: readonly string[]): Promise<void> {
    if (urls.length === 0) return;
    await this.prisma.pool.query(
      `INSERT INTO event_endpoints (url, cursor_xid, cursor_position)
       SELECT url, pg_snapshot_xmin(pg_current_snapshot()), 0 FROM unnest($1::text[]) AS url
       ON CONFLICT (url) DO NOTHING`,
      [urls],
    );
  }

  /**
   * Creates PENDING deliveries for up to `limit` events past the endpoint's cursor and moves the cursor past them, in
   * one transaction holding the endpoint's row (SKIP LOCKED: another replica doing it now means nothing to do here).
   * Answers how many events it scheduled.
   */
  async scheduleNew(url: string, limit: number, retryWindowMs: number): Promise<number> {
    const client = await this.prisma.pool.connect();
    try {
      await client.query('BEGIN');
      const locked = await client.query<{ cursor_xid: string; cursor_position: string }>(
        'SELECT cursor_xid::text, cursor_position::text FROM event_endpoints WHERE url = $1 FOR UPDATE SKIP LOCKED',
        [url],
      );
      if (locked.rows.length === 0) {
        await client.query('ROLLBACK');
        return 0;
      }
      // A statement after the lock: its snapshot's xmin bounds what is exposed, as in the pull feed.
      const { rows } = await client.query<{ scheduled: number; last_xid: string | null; last_position: string | null }>(
        `WITH batch AS (
           SELECT id, writer_xid, position FROM outbox_events
           WHERE (writer_xid, position) > ($2::xid8, $3::bigint) AND writer_xid < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY writer_xid, position
           LIMIT $4
         ), created AS (
           INSERT INTO event_deliveries (event_id, endpoint, give_up_at)
           SELECT id, $1, now() + ${ms('$5')} FROM batch
           ON CONFLICT (event_id, endpoint) DO NOTHING
         ), last AS (
           SELECT writer_xid, position FROM batch ORDER BY writer_xid DESC, position DESC LIMIT 1
         )
         SELECT (SELECT count(*)::int FROM batch) AS scheduled,
                (SELECT writer_xid::text FROM last) AS last_xid, (SELECT position::text FROM last) AS last_position`,
        [url, locked.rows[0].cursor_xid, locked.rows[0].cursor_position, limit, retryWindowMs],
      );
      const { scheduled, last_xid, last_position } = rows[0];
      if (last_xid !== null) {
        await client.query('UPDATE event_endpoints SET cursor_xid = $2::xid8, cursor_position = $3 WHERE url = $1', [url, last_xid, last_position]);
      }
      await client.query('COMMIT');
      return scheduled;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Leases up to `limit` due PENDING deliveries of one endpoint to `owner` and counts the attempt, in one statement
   * (SKIP LOCKED: replicas never take the same delivery, so one event is never sent to one endpoint twice at once).
   */
  async claimDue(url: string, owner: string, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.prisma.pool.query<{
      delivery_id: string;
      attempts: number;
      id: string;
      type: EventType;
      occurred_at: Date;
      external_user_id: string;
      user_id: string | null;
      data: Record<string, unknown>;
    }>(
      `UPDATE event_deliveries d
       SET lease_owner = $2, lease_until = now() + ${ms('$3')}, next_attempt_at = now() + ${ms('$3')},
           attempts = d.attempts + 1, last_attempt_at = now()
       FROM outbox_events e
       WHERE e.id = d.event_id AND d.id IN (
         SELECT id FROM event_deliveries
         WHERE endpoint = $1 AND status = 'PENDING' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until <= now())
         ORDER BY next_attempt_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
       RETURNING d.id::text AS delivery_id, d.attempts, e.id, e.type, e.occurred_at, e.external_user_id, e.user_id, e.data`,
      [url, owner, leaseMs, limit],
    );
    return rows.map((row) => ({ deliveryId: row.delivery_id, attempts: row.attempts, event: toEventView(row) }));
  }

  /** An acknowledgement always counts, whoever holds the lease now (the endpoint has the event). */
  async markDelivered(deliveryIds: string[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.prisma.pool.query(
      `UPDATE event_deliveries SET status = 'DELIVERED', delivered_at = now(), last_error = NULL, lease_owner = NULL, lease_until = NULL
       WHERE id = ANY($1::bigint[]) AND status = 'PENDING'`,
      [deliveryIds],
    );
  }

  /** A failed attempt, by the lease holder: due again after `delayMs`, or FAILED once that passes its give_up_at. */
  async markAttemptFailed(deliveryId: string, owner: string, delayMs: number, error: string): Promise<void> {
    await this.prisma.pool.query(
      `UPDATE event_deliveries
       SET status = CASE WHEN now() + ${ms('$3')} > give_up_at THEN 'FAILED' ELSE 'PENDING' END,
           next_attempt_at = now() + ${ms('$3')}, last_error = $4, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND status = 'PENDING' AND lease_owner = $2`,
      [deliveryId, owner, delayMs, error],
    );
  }

  /** Lets go of the leases of attempts that did not finish (graceful shutdown), so they are due at once elsewhere. */
  async releaseLeases(owners: string[]): Promise<void> {
    if (owners.length === 0) return;
    await this.prisma.pool.query(
      `UPDATE event_deliveries SET lease_owner = NULL, lease_until = NULL, next_attempt_at = now()
       WHERE lease_owner = ANY($1::text[]) AND status = 'PENDING'`,
      [owners],
    );
  }
}
