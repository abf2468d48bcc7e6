import { decodePageCursor, encodePageCursor } from './page-cursor';

describe('page cursor', () => {
  it.each([1n, 42n, 9_223_372_036_854_775_807n])('round-trips id %s', (id) => {
    expect(decodePageCursor(encodePageCursor(id))).toBe(id);
  });

  it('is not the bare id', () => {
    expect(encodePageCursor(12345n)).not.toBe('12345');
  });

  it.each([
    ['empty', ''],
    ['not base64url', '!!!'],
    ['a bare id', '12345'],
    ['zero', encodeRaw('0')],
    ['negative', encodeRaw('-5')],
    ['leading zero', encodeRaw('007')],
    ['beyond bigint', encodeRaw('9223372036854775808')],
    ['trailing text', encodeRaw('12abc')],
    ['padded base64', `${encodeRaw('12')}=`],
  ])('rejects %s', (_name, cursor) => {
    expect(decodePageCursor(cursor)).toBeNull();
  });
});

function encodeRaw(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
