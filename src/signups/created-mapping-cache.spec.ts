import { CreatedMappingCache } from './created-mapping-cache';
import { signupRecord } from '../../test/support/signup-record';
import { SignupRecord, SignupStatus, toMapping } from './signup.types';

const row = (externalUserId: string, status: SignupStatus = 'CREATED'): SignupRecord =>
  signupRecord(status, { externalUserId, fingerprint: `fp-${externalUserId}` });

describe('CreatedMappingCache', () => {
  it('remembers CREATED rows only', () => {
    const cache = new CreatedMappingCache(10);
    cache.remember(row('a'));
    for (const status of ['PENDING', 'FAILED', 'NEEDS_ATTENTION'] as const) cache.remember(row(`x-${status}`, status));
    cache.remember(null);
    expect(cache.get('a')).toEqual({ fingerprint: 'fp-a', json: JSON.stringify(toMapping(row('a'))) });
    expect(cache.size).toBe(1);
    expect(cache.get('x-PENDING')).toBeUndefined();
  });

  it('answers the entry it holds, serialising a row once; other states get none', () => {
    const cache = new CreatedMappingCache(10);
    const first = cache.remember(row('a'));
    expect(first).toEqual({ fingerprint: 'fp-a', json: JSON.stringify(toMapping(row('a'))) });
    expect(cache.remember(row('a'))).toBe(first);
    expect(cache.remember(row('p', 'PENDING'))).toBeUndefined();
    expect(new CreatedMappingCache(0).remember(row('a'))).toBeUndefined();
  });

  it('evicts the least recently used beyond its bound', () => {
    const cache = new CreatedMappingCache(2);
    cache.remember(row('a'));
    cache.remember(row('b'));
    cache.get('a');
    cache.remember(row('c'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size).toBe(2);
  });

  it('a bound of 0 disables it', () => {
    const cache = new CreatedMappingCache(0);
    cache.remember(row('a'));
    expect(cache.get('a')).toBeUndefined();
  });
});
