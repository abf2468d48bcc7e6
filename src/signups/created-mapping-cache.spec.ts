import { CreatedMappingCache } from './created-mapping-cache';
import { SignupRecord, SignupStatus, toMapping } from './signup.types';

const row = (externalUserId: string, status: SignupStatus = 'CREATED'): SignupRecord => ({
  id: 1n,
  externalUserId,
  capaUserId: status === 'CREATED' ? '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b' : null,
  status,
  method: 'EMAIL',
  identifier: 'a@example.com',
  userType: null,
  alias: null,
  fingerprint: `fp-${externalUserId}`,
  errorCode: null,
  errorMessage: null,
  attemptCount: 1,
  leaseOwner: null,
  leaseUntil: null,
  nextAttemptAt: null,
  createdAt: new Date('2026-11-27T00:00:00Z'),
  updatedAt: new Date('2026-11-27T00:00:01Z'),
});

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
