import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';

/**
 * A place in the event feed: every event at or before (writerXid, position) in commit order has been read.
 * Clients get it as an opaque base64url string; only the canonical encoding of a cursor this service could issue
 * is accepted back.
 */
export interface FeedCursor {
  /** The writing transaction's id (PostgreSQL xid8), as a decimal bigint. */
  writerXid: bigint;
  position: bigint;
}

/** Before the first event: no transaction has id 0 and positions start at 1. */
export const FEED_START: FeedCursor = { writerXid: 0n, position: 0n };

const MAX_XID8 = 18_446_744_073_709_551_615n;
const MAX_BIGINT = 9_223_372_036_854_775_807n;
const DECODED = /^(0|[1-9]\d{0,19})\.(0|[1-9]\d{0,18})$/;

export function encodeFeedCursor(cursor: FeedCursor): string {
  return Buffer.from(`${cursor.writerXid}.${cursor.position}`, 'utf8').toString('base64url');
}

/** The place a cursor stands for, or null when the string is not a cursor this service issued. */
export function decodeFeedCursor(cursor: string): FeedCursor | null {
  const match = DECODED.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null) return null;
  const decoded = { writerXid: BigInt(match[1]), position: BigInt(match[2]) };
  if (decoded.writerXid > MAX_XID8 || decoded.position > MAX_BIGINT) return null;
  return encodeFeedCursor(decoded) === cursor ? decoded : null;
}

/**
 * Where the next page starts. A full page ends at its last item. A short page means every visible event past
 * `after` was examined, so the cursor moves past the last one examined even when a type filter returned none of
 * them (a consumer never rescans them); with nothing new at all it stays `after`.
 */
export function nextFeedCursor(after: FeedCursor, items: FeedCursor[], limit: number, lastExamined: FeedCursor | null): FeedCursor {
  if (items.length >= limit) return items[items.length - 1];
  return lastExamined ?? items.at(-1) ?? after;
}

/**
 * A cursor past every transaction this database has seen: no event will ever follow it here (it comes from another
 * cluster, e.g. from before a dump/restore, where transaction ids start lower). Answered 400, never as an empty page.
 */
export class InvalidCursorError extends ApiError {
  constructor() {
    super(
      HttpStatus.BAD_REQUEST,
      'INVALID_CURSOR',
      'after is beyond the newest transaction of this database (a cursor from another cluster, e.g. before a restore): read the feed again from the start or from a known event',
    );
  }
}
