import { CursorParam } from '../../common/page-cursor';

/**
 * Where each timeline item comes from, in the order that breaks a tie of `at` (a cause before its effect): an item's
 * key is (at, source, id), and a page is newest first on that key. Every source's id is a bigint of its own table.
 */
// New sources go at the end: a cursor names its source by index.
export const TIMELINE_SOURCES = ['accepted', 'attempt', 'link', 'webhook', 'status', 'kyc', 'event', 'pastDelivery', 'delivery', 'operator', 'erasure'] as const;
export type TimelineSource = (typeof TIMELINE_SOURCES)[number];

/** The keyset position of one item: the last one of a page, as the next page's cursor holds it. */
export interface TimelineKey {
  at: Date;
  source: TimelineSource;
  id: bigint;
}

const MAX_BIGINT = 9_223_372_036_854_775_807n;
const CURSOR = /^(\d{1,15})\.(\d{1,2})\.([1-9]\d{0,18})$/;

/** Opaque to clients, as the lists' cursors are: base64url of `<at ms>.<source rank>.<id>`. */
export function encodeTimelineCursor(key: TimelineKey): string {
  return Buffer.from(`${key.at.getTime()}.${TIMELINE_SOURCES.indexOf(key.source)}.${key.id}`, 'utf8').toString('base64url');
}

/** The key a cursor stands for, or null when the string is not a cursor this service issued. */
export function decodeTimelineCursor(cursor: string): TimelineKey | null {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null) return null;
  const source = TIMELINE_SOURCES[Number(match[2])];
  const id = BigInt(match[3]);
  if (source === undefined || id > MAX_BIGINT) return null;
  const key = { at: new Date(Number(match[1])), source, id };
  return encodeTimelineCursor(key) === cursor ? key : null;
}

/** -1, 0 or 1 as `a` comes before, with or after `b` in time order (the opposite of a page's order). */
export function compareKeys(a: TimelineKey, b: TimelineKey): number {
  const byTime = a.at.getTime() - b.at.getTime();
  if (byTime !== 0) return Math.sign(byTime);
  const bySource = TIMELINE_SOURCES.indexOf(a.source) - TIMELINE_SOURCES.indexOf(b.source);
  if (bySource !== 0) return Math.sign(bySource);
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

/**
 * What a source's rows must satisfy to come after `cursor` on a newest-first page, as one range of its (at, id)
 * index: a source that sorts before the cursor's at one instant keeps that instant, one after it does not, and the
 * cursor's own source continues past its id.
 */
export type SourceBound = { kind: 'none' } | { kind: 'atOrBefore'; at: Date } | { kind: 'before'; at: Date } | { kind: 'beforeKey'; at: Date; id: bigint };

export function boundFor(source: TimelineSource, cursor: TimelineKey | null): SourceBound {
  if (cursor === null) return { kind: 'none' };
  const order = TIMELINE_SOURCES.indexOf(source) - TIMELINE_SOURCES.indexOf(cursor.source);
  if (order < 0) return { kind: 'atOrBefore', at: cursor.at };
  if (order > 0) return { kind: 'before', at: cursor.at };
  return { kind: 'beforeKey', at: cursor.at, id: cursor.id };
}

/** The timeline's `cursor` query parameter: blank is absent, otherwise a nextCursor of this endpoint. */
export function TimelineCursorParam(): PropertyDecorator {
  return CursorParam(decodeTimelineCursor);
}
