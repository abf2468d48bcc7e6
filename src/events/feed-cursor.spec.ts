import { FEED_START, FeedCursor, decodeFeedCursor, encodeFeedCursor, nextFeedCursor } from './feed-cursor';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('feed cursor', () => {
  it.each([
    [FEED_START],
    [{ writerXid: 1n, position: 1n }],
    [{ writerXid: 4_294_967_296n, position: 12_345n }],
    [{ writerXid: 18_446_744_073_709_551_615n, position: 9_223_372_036_854_775_807n }],
  ])('round-trips %p', (cursor) => {
    expect(decodeFeedCursor(encodeFeedCursor(cursor))).toEqual(cursor);
  });

  it('is opaque: neither number shows in the string', () => {
    expect(encodeFeedCursor({ writerXid: 731n, position: 42n })).not.toMatch(/731|42/);
  });

  it.each([
    ['empty', ''],
    ['not base64 of a cursor', 'hello'],
    ['one number', b64('12')],
    ['three numbers', b64('1.2.3')],
    ['negative', b64('-1.2')],
    ['leading zero', b64('01.2')],
    ['plus sign', b64('+1.2')],
    ['spaces', b64(' 1.2')],
    ['xid over xid8', b64('18446744073709551616.1')],
    ['position over bigint', b64('1.9223372036854775808')],
    ['non-canonical base64 (padding)', `${b64('1.2')}=`],
    ['standard base64 alphabet', Buffer.from('1000.1000?>', 'utf8').toString('base64')],
  ])('rejects %s', (_name, cursor) => {
    expect(decodeFeedCursor(cursor)).toBeNull();
  });

  const at = (writerXid: number, position: number): FeedCursor => ({ writerXid: BigInt(writerXid), position: BigInt(position) });
  it.each<[string, FeedCursor, FeedCursor[], number, FeedCursor | null, FeedCursor]>([
    ['nothing new: unchanged', at(5, 3), [], 10, null, at(5, 3)],
    ['full page: its last item, even with more examined', at(5, 3), [at(6, 1), at(7, 9)], 2, at(9, 2), at(7, 9)],
    ['short page: the last examined event', at(5, 3), [at(6, 1)], 10, at(6, 1), at(6, 1)],
    ['type filter matched none: past the examined events', at(5, 3), [], 10, at(8, 4), at(8, 4)],
    ['type filter matched early ones: past the later examined ones', at(5, 3), [at(6, 1)], 10, at(8, 4), at(8, 4)],
  ])('next cursor: %s', (_name, after, items, limit, lastExamined, expected) => {
    expect(nextFeedCursor(after, items, limit, lastExamined)).toEqual(expected);
  });
});
