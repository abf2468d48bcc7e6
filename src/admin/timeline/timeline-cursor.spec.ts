import { boundFor, compareKeys, decodeTimelineCursor, encodeTimelineCursor, type TimelineKey } from './timeline-cursor';

const key = (ms: number, source: TimelineKey['source'], id: bigint): TimelineKey => ({ at: new Date(ms), source, id });

describe('timeline cursor', () => {
  it('round-trips every key it issues', () => {
    for (const item of [key(1_764_000_000_123, 'accepted', 1n), key(0, 'delivery', 9_223_372_036_854_775_807n), key(5, 'kyc', 42n), key(6, 'erasure', 3n)]) {
      expect(decodeTimelineCursor(encodeTimelineCursor(item))).toEqual(item);
    }
  });

  it.each([
    ['not base64 of a key', 'not-a-cursor'],
    ['a list cursor (an id only)', Buffer.from('42').toString('base64url')],
    ['an unknown source', Buffer.from('5.99.1').toString('base64url')],
    ['a zero id', Buffer.from('5.1.0').toString('base64url')],
    ['an id past bigint', Buffer.from('5.1.9223372036854775808').toString('base64url')],
    ['a non-canonical time', Buffer.from('05.1.1').toString('base64url')],
    ['a non-canonical source', Buffer.from('5.01.1').toString('base64url')],
    ['a negative time', Buffer.from('-5.1.1').toString('base64url')],
    ['padding', `${Buffer.from('5.1.1').toString('base64')}=`],
  ])('refuses %s', (_name, cursor) => {
    expect(decodeTimelineCursor(cursor)).toBeNull();
  });

  it('orders by time, then source (a cause before its effect), then id', () => {
    expect(compareKeys(key(1, 'delivery', 9n), key(2, 'accepted', 1n))).toBe(-1);
    expect(compareKeys(key(2, 'webhook', 9n), key(2, 'kyc', 1n))).toBe(-1);
    expect(compareKeys(key(2, 'kyc', 1n), key(2, 'kyc', 2n))).toBe(-1);
    expect(compareKeys(key(2, 'kyc', 2n), key(2, 'kyc', 2n))).toBe(0);
  });

  it('bounds each source so that exactly the keys after the cursor remain', () => {
    const cursor = key(10, 'kyc', 7n);
    expect(boundFor('webhook', null)).toEqual({ kind: 'none' });
    // webhook sorts before kyc: its rows at the cursor's instant come after it on a newest-first page.
    expect(boundFor('webhook', cursor)).toEqual({ kind: 'atOrBefore', at: cursor.at });
    expect(boundFor('event', cursor)).toEqual({ kind: 'before', at: cursor.at });
    expect(boundFor('kyc', cursor)).toEqual({ kind: 'beforeKey', at: cursor.at, id: 7n });
  });
});
