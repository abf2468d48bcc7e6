import { Injectable } from '@nestjs/common';
import { PrismaService } from '../persistence/prisma.service';
import type { EventView } from './event.types';
import { type EventRow, toEventView } from './event-feed.repository';

/** A delivery claimed for one attempt: the event to send and who holds it. */
export interface ClaimedDelivery {
  deliveryId: string;
  attempts: number;
  event: EventView;
  /** W3C traceparent stored with the event (tracing on): the push's span links to it. Never sent in the body. */
  traceParent: string | null;
}

/** What one claimNew did: see there. */
export interface NewClaims {
  claimed: ClaimedDelivery[];
  scanned: number;
  cursorAhead: boolean;
}


/** One failed push attempt to settle: when it is due again, why it failed, the endpoint's HTTP status if it answered. */
export interface FailedAttempt {
  deliveryId: string;
  delayMs: number;
  error: string;
  httpStatus?: number;
}

interface ClaimedRow extends EventRow {
  delivery_id: string;
  attempts: number;
  trace_parent: string | null;
}

const toClaimed = (row: ClaimedRow): ClaimedDelivery => ({
  deliveryId: row.delivery_id,
  attempts: row.attempts,
  event: toEventView(row),
  traceParent: row.trace_parent,
});

const ms = (param: string) => `${param}::bigint * interval '1 millisecond'`;

/**
 * The push side's rows. Delivery rows are created lazily, by the deliverer following the feed past its endpoint's
 * cursor in commit order (each already claimed for its first attempt), so a new signup pays for one outbox row and no
 * more, however many endpoints there are. A delivery costs two row writes: claimed, then settled.
 */
@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A new endpoint starts at the feed's current end: events already committed are for the pull feed. */
  async registerEndpoints(urls: readonly string[]): Promise<void> {
    if (urls.length === 0) return;
    await this.prisma.pool.query(
      `INSERT INTO event_endpoints (url, cursor_xid, cursor_position)
       SELECT url, capa_event_horizon(), 0 FROM unnest($1::text[]) AS url
       ON CONFLICT (url) DO NOTHING`,
      [urls],
    );
  }

  /**
   * Leases the next `limit` events past the endpoint's cursor to `owner`: their delivery rows are created already
   * claimed for a first attempt (one row write instead of a PENDING row and then a claim), and the cursor moves past
   * them, in one transaction holding the endpoint's row (SKIP LOCKED: another replica doing it now means nothing to
   * do here). An event that already has a delivery for this endpoint (an operator's redelivery) is left to claimDue.
   * Answers the claimed deliveries, how many events it went past (`limit` when more may be waiting), and whether the
   * endpoint's cursor is beyond every transaction this database has seen (`cursorAhead`: another cluster's position,
   * e.g. kept across a dump/restore; nothing would ever be pushed past it, so the caller raises the fault).
   */
  async claimNew(url: string, owner: string, leaseMs: number, limit: number, retryWindowMs: number): Promise<NewClaims> {
    const client = await this.prisma.pool.connect();
    try {
      await client.query('BEGIN');
      const locked = await client.query<{ cursor_xid: string; cursor_position: string }>(
        'SELECT cursor_xid::text, cursor_position::text FROM event_endpoints WHERE url = $1 FOR UPDATE SKIP LOCKED',
        [url],
      );
      if (locked.rows.length === 0) {
        await client.query('ROLLBACK');
        return { claimed: [], scanned: 0, cursorAhead: false };
      }
      // A statement after the lock: its snapshot's event horizon bounds what is exposed, as in the pull feed.
      const { rows } = await client.query<ClaimedRow & { scanned: number; cursor_ahead: boolean }>(
        `WITH batch AS (
           SELECT id, writer_xid, position, type, occurred_at, external_user_id, user_id, data, trace_parent FROM outbox_events
           WHERE (writer_xid, position) > ($2::xid8, $3::bigint) AND writer_xid < (SELECT capa_event_horizon())
           ORDER BY writer_xid, position
           LIMIT $4
         ), claimed AS (
           INSERT INTO event_deliveries (event_id, endpoint, give_up_at, attempts, last_attempt_at, lease_owner, lease_until, next_attempt_at, external_user_id)
           SELECT id, $1, now() + ${ms('$5')}, 1, now(), $6, now() + ${ms('$7')}, now() + ${ms('$7')}, external_user_id FROM batch
           ON CONFLICT (event_id, endpoint) DO NOTHING
           RETURNING id, event_id, attempts
         ), last AS (
           SELECT writer_xid, position FROM batch ORDER BY writer_xid DESC, position DESC LIMIT 1
         ), moved AS (
           UPDATE event_endpoints SET cursor_xid = last.writer_xid, cursor_position = last.position FROM last WHERE url = $1
         )
         SELECT scanned, $2::xid8 >= pg_snapshot_xmax(pg_current_snapshot()) AS cursor_ahead, c.id::text AS delivery_id, c.attempts, b.id, b.type, b.occurred_at, b.external_user_id, b.user_id, b.data,
                b.trace_parent
         FROM (SELECT count(*)::int AS scanned FROM batch) AS counted
         LEFT JOIN (claimed c JOIN batch b ON b.id = c.event_id) ON true
         ORDER BY b.writer_xid, b.position`,
        [url, locked.rows[0].cursor_xid, locked.rows[0].cursor_position, limit, retryWindowMs, owner, leaseMs],
      );
      await client.query('COMMIT');
      return { claimed: rows.filter((row) => row.delivery_id !== null).map(toClaimed), scanned: rows[0]?.scanned ?? 0, cursorAhead: rows[0]?.cursor_ahead === true };
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
    const { rows } = await this.prisma.pool.query<ClaimedRow>(
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
       RETURNING d.id::text AS delivery_id, d.attempts, e.id, e.type, e.occurred_at, e.external_user_id, e.user_id, e.data,
                 e.trace_parent`,
      [url, owner, leaseMs, limit],
    );
    return rows.map(toClaimed);
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

  /**
   * Failed attempts of one pass, by their lease holder, in one statement: each due again after its delay, or FAILED
   * once that passes its give_up_at, and kept in event_delivery_attempts (the user's timeline shows each one).
   */
  async markAttemptsFailed(owner: string, failures: FailedAttempt[]): Promise<void> {
    if (failures.length === 0) return;
    await this.prisma.pool.query(
      `WITH failed AS (
         UPDATE event_deliveries d
         SET status = CASE WHEN now() + f.delay_ms * interval '1 millisecond' > d.give_up_at THEN 'FAILED' ELSE 'PENDING' END,
             next_attempt_at = now() + f.delay_ms * interval '1 millisecond', last_error = f.error, lease_owner = NULL, lease_until = NULL
         FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::int[]) AS f(id, delay_ms, error, http_status)
         WHERE d.id = f.id AND d.status = 'PENDING' AND d.lease_owner = $1
         RETURNING d.id, d.external_user_id, d.attempts, d.last_attempt_at, f.http_status, f.error
       )
       INSERT INTO event_delivery_attempts (delivery_id, external_user_id, attempt, at, outcome, http_status, error)
       SELECT id, external_user_id, attempts, coalesce(last_attempt_at, now()), 'failed', http_status, error FROM failed`,
      [owner, failures.map((f) => f.deliveryId), failures.map((f) => f.delayMs), failures.map((f) => f.error), failures.map((f) => f.httpStatus ?? null)],
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
