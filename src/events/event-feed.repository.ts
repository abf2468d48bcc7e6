import { Injectable } from '@nestjs/common';
import { PrismaService } from '../persistence/prisma.service';
import type { EventType, EventView } from './event.types';
import type { FeedCursor } from './feed-cursor';

/**
 * Rows ordered by (writer_xid, position) = commit order, limited to transactions below the event horizon (the oldest
 * transaction still in progress that may write events; migration 20261128160000). The ORDER
 * BYs name the table's columns (`o.`): a bare name would mean the `::text` output column of the same name, and text
 * order ("10" < "9") would cut a page before events its cursor then skips. The first branch answers one marker row
 * when the cursor's writer is at or past the snapshot's xmax: no transaction of this cluster has that id yet, so no
 * event can ever follow it (a cursor from before a restore into a new cluster, whose xids start lower).
 */
const FEED_PAGE = `
  WITH horizon AS MATERIALIZED (SELECT capa_event_horizon() AS xid)
  (SELECT 'beyond' AS kind, NULL AS id, NULL AS type, NULL AS occurred_at, NULL AS external_user_id, NULL AS user_id, NULL AS data,
          NULL AS writer_xid, NULL AS position
   WHERE $1::xid8 >= pg_snapshot_xmax(pg_current_snapshot()))
  UNION ALL
  (SELECT 'item', o.id, o.type, o.occurred_at, o.external_user_id, o.user_id, o.data,
          o.writer_xid::text AS writer_xid, o.position::text AS position
   FROM outbox_events o
   WHERE (o.writer_xid, o.position) > ($1::xid8, $2::bigint) AND o.writer_xid < (SELECT xid FROM horizon)
     AND ($3::text IS NULL OR o.type = $3::text)
   ORDER BY o.writer_xid, o.position
   LIMIT $4)
  UNION ALL
  (SELECT 'examined', NULL, NULL, NULL, NULL, NULL, NULL, o.writer_xid::text, o.position::text
   FROM outbox_events o
   WHERE (o.writer_xid, o.position) > ($1::xid8, $2::bigint) AND o.writer_xid < (SELECT xid FROM horizon)
   ORDER BY o.writer_xid DESC, o.position DESC
   LIMIT 1)`;

/** An outbox row's columns as the event views are read from them (the feed's and the push side's queries). */
export interface EventRow {
  id: string;
  type: EventType;
  occurred_at: Date;
  external_user_id: string;
  user_id: string | null;
  data: Record<string, unknown>;
}

interface FeedRow extends EventRow {
  kind: 'item' | 'examined' | 'beyond';
  writer_xid: string;
  position: string;
}

export interface FeedPage {
  items: Array<{ event: EventView; cursor: FeedCursor }>;
  /** The last visible event past `after` of any type (what a type-filtered read has examined), if any. */
  lastExamined: FeedCursor | null;
  /** The cursor is past every transaction this database has seen: it was not issued here (another cluster's). */
  beyondNewest: boolean;
}

/**
 * Reads the outbox in commit order. Only transactions below this statement's event horizon are exposed: every one
 * of them has ended or writes no events (an import's upload), so no event can still commit before the returned ones,
 * and every later writer's xid is above them. A plain position cursor would skip an event whose transaction took its
 * position early and committed late.
 */
@Injectable()
export class EventFeedRepository {
  constructor(private readonly prisma: PrismaService) {}

  async page(after: FeedCursor, limit: number, type: EventType | undefined): Promise<FeedPage> {
    const { rows } = await this.prisma.pool.query<FeedRow>(FEED_PAGE, [after.writerXid.toString(), after.position.toString(), type ?? null, limit]);
    const items: FeedPage['items'] = [];
    let lastExamined: FeedCursor | null = null;
    let beyondNewest = false;
    for (const row of rows) {
      if (row.kind === 'beyond') {
        beyondNewest = true;
        continue;
      }
      const cursor = { writerXid: BigInt(row.writer_xid), position: BigInt(row.position) };
      if (row.kind === 'examined') lastExamined = cursor;
      else items.push({ event: toEventView(row), cursor });
    }
    return { items, lastExamined, beyondNewest };
  }
}

export function toEventView(row: EventRow): EventView {
  return {
    id: row.id,
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    externalUserId: row.external_user_id,
    userId: row.user_id,
    data: row.data,
  };
}
