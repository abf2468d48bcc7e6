import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../persistence/prisma.service';
import { type SourceBound, type TimelineKey, type TimelineSource, TIMELINE_SOURCES, boundFor } from './timeline-cursor';

/** One stored fact about a user, as its source query reads it: its key, and the columns the item is built from. */
export interface TimelineRow {
  key: TimelineKey;
  facts: Record<string, unknown>;
}

/**
 * One query per source, each a range scan of an index on (user, time, id) read backwards from the cursor (migration
 * 20261205140000): `$1` the signup's id, `$2` its externalUserId. `{bound}` is replaced by the source's keyset
 * condition on its (at, id) columns. Identifiers, aliases, webhook bodies and links are never selected.
 */
const SOURCE_QUERIES: Record<Exclude<TimelineSource, 'accepted'>, { at: string; id: string; sql: string }> = {
  attempt: {
    at: 'at',
    id: 'id',
    sql: `SELECT id, at, jsonb_build_object('operation', operation, 'outcome', outcome, 'httpStatus', http_status,
            'latencyMs', latency_ms, 'errorCode', error_code, 'by', actor) AS facts
          FROM capa_attempts WHERE signup_id = $1 AND operation <> 'resolve' AND {bound}`,
  },
  link: {
    at: 'at',
    id: 'id',
    sql: `SELECT id, at, jsonb_build_object('operation', operation, 'country', country) AS facts
          FROM capa_attempts
          WHERE signup_id = $1 AND operation IN ('kyc-link', 'kyb-link') AND outcome = 'answered' AND {bound}`,
  },
  webhook: {
    at: 'received_at',
    id: 'id',
    sql: `SELECT id, received_at AS at, jsonb_build_object('type', type, 'event', event, 'outcome', outcome,
            'kycStatus', kyc_status::text, 'source', source, 'notificationId', notification_id) AS facts
          FROM capa_webhook_inbox WHERE external_user_id = $2 AND {bound}`,
  },
  status: {
    at: 'at',
    id: 'id',
    sql: `SELECT id, at, jsonb_build_object('from', from_status::text, 'to', to_status::text) AS facts
          FROM signup_status_changes WHERE signup_id = $1 AND {bound}`,
  },
  kyc: {
    at: 'occurred_at',
    id: 'position',
    sql: `SELECT position AS id, occurred_at AS at, jsonb_build_object('from', data ->> 'previousStatus', 'to',
            data ->> 'status', 'capaEvent', data ->> 'capaEvent') AS facts
          FROM outbox_events WHERE external_user_id = $2 AND type = 'kyc.status_changed' AND {bound}`,
  },
  event: {
    at: 'occurred_at',
    id: 'position',
    sql: `SELECT position AS id, occurred_at AS at, jsonb_build_object('id', id, 'type', type) AS facts
          FROM outbox_events WHERE external_user_id = $2 AND {bound}`,
  },
  pastDelivery: {
    at: 'a.at',
    id: 'a.id',
    sql: `SELECT a.id, a.at, jsonb_build_object('eventId', d.event_id, 'eventType', e.type, 'endpoint', d.endpoint,
            'attempt', a.attempt, 'outcome', a.outcome, 'httpStatus', a.http_status, 'error', a.error) AS facts
          FROM event_delivery_attempts a
          JOIN event_deliveries d ON d.id = a.delivery_id JOIN outbox_events e ON e.id = d.event_id
          WHERE a.external_user_id = $2 AND {bound}`,
  },
  delivery: {
    at: 'd.delivered_at',
    id: 'd.id',
    sql: `SELECT d.id, d.delivered_at AS at, jsonb_build_object('eventId', d.event_id, 'eventType', e.type, 'endpoint',
            d.endpoint, 'attempt', d.attempts, 'outcome', 'delivered', 'httpStatus', NULL, 'error', NULL) AS facts
          FROM event_deliveries d JOIN outbox_events e ON e.id = d.event_id
          WHERE d.external_user_id = $2 AND d.status = 'DELIVERED' AND {bound}`,
  },
  // Audit rows about this user (an operator's retry, resolve, refresh, erase): what, by whom, and how it ended.
  operator: {
    at: 'at::timestamptz(3)',
    id: 'id',
    sql: `SELECT id, at::timestamptz(3) AS at, jsonb_build_object('action', action, 'outcome', outcome, 'actor', actor_sub,
            'actorName', actor_name, 'via', actor_via, 'statusCode', details -> 'statusCode', 'code', details -> 'code') AS facts
          FROM audit_log WHERE target = 'user:' || $2 AND {bound}`,
  },
  // The erasure of the user's personal data: the signup row itself, by its primary key.
  erasure: {
    at: 'erased_at',
    id: 'id',
    sql: `SELECT id, erased_at AS at, jsonb_build_object('erasedAt', to_char(erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS facts
          FROM signups WHERE id = $1 AND erased_at IS NOT NULL AND {bound}`,
  },
};

/** The keyset condition of a bound on a source's (at, id) columns; `$4` is the cursor's at, `$5` its id. */
function condition(bound: SourceBound, at: string, id: string): string {
  switch (bound.kind) {
    case 'none':
      return 'true';
    case 'atOrBefore':
      return `${at} <= $4`;
    case 'before':
      return `${at} < $4`;
    case 'beforeKey':
      return `(${at}, ${id}) < ($4, $5::bigint)`;
  }
}

/** The timeline's read model: every source of a user's story, newest first past a cursor. */
@Injectable()
export class TimelineRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Up to `limit` rows of every stored source past `cursor`, merged newest first, in one round trip: each source is
   * its own ordered, limited index scan, so the cost is bounded by `limit` per source, not by the user's history.
   */
  async rowsAfter(signup: { id: bigint; externalUserId: string }, cursor: TimelineKey | null, limit: number): Promise<TimelineRow[]> {
    const branches = Object.entries(SOURCE_QUERIES).map(([source, query]) => {
      const rank = TIMELINE_SOURCES.indexOf(source as TimelineSource);
      const sql = query.sql.replace('{bound}', condition(boundFor(source as TimelineSource, cursor), query.at, query.id));
      return `(SELECT ${rank} AS rank, s.id, s.at, s.facts FROM (${sql} ORDER BY ${query.at} DESC, ${query.id} DESC LIMIT $3) AS s)`;
    });
    const text = `${branches.join('\nUNION ALL\n')}\nORDER BY at DESC, rank DESC, id DESC LIMIT $3`;
    // The cursor's values only where a condition uses them: PostgreSQL cannot type a parameter no statement uses.
    const params: unknown[] = [signup.id, signup.externalUserId, limit];
    if (cursor !== null) params.push(cursor.at);
    if (cursor !== null && text.includes('$5')) params.push(cursor.id.toString());
    const { rows } = await this.prisma.pool.query<{ rank: number; id: string; at: Date; facts: Record<string, unknown> }>(text, params);
    return rows.map((row) => ({ key: { at: row.at, source: TIMELINE_SOURCES[row.rank], id: BigInt(row.id) }, facts: row.facts }));
  }
}
