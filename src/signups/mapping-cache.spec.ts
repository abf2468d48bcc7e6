import { MappingCache } from './mapping-cache';

const entry = (name: string) => ({ fingerprint: `fp-${name}`, fingerprintSalt: null, json: `{"externalUserId":"${name}"}` });

describe('MappingCache', () => {
  it('answers what it remembered, and nothing for what it never saw', () => {
    const cache = new MappingCache(10);
    cache.remember('a', entry('a'), cache.beginRead());
    expect(cache.get('a')).toEqual(entry('a'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.counts).toEqual({ hits: 1, misses: 1 });
  });

  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const cache = new MappingCache(3);
    for (const name of ['a', 'b', 'c']) cache.remember(name, entry(name), cache.beginRead());
    cache.get('a');
    cache.remember('d', entry('d'), cache.beginRead());
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((name) => cache.get(name)?.fingerprint)).toEqual(['fp-a', 'fp-c', 'fp-d']);
  });

  it('does not remember a read that began before a change was heard (the change wins)', () => {
    const cache = new MappingCache(10);
    const token = cache.beginRead();
    cache.forget('a');
    cache.remember('a', entry('a'), token);
    expect(cache.get('a')).toBeUndefined();
    const later = cache.beginRead();
    cache.remember('a', entry('a'), later);
    expect(cache.get('a')).toEqual(entry('a'));
  });

  it('forgets one mapping on its change, and all of them on a gap', () => {
    const cache = new MappingCache(10);
    for (const name of ['a', 'b']) cache.remember(name, entry(name), cache.beginRead());
    cache.forget('a');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual(entry('b'));
    cache.forgetAll();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('answers and remembers nothing while its feed of changes is not live, or when sized 0', () => {
    let live = true;
    const cache = new MappingCache(10, () => live);
    cache.remember('a', entry('a'), cache.beginRead());
    live = false;
    expect(cache.get('a')).toBeUndefined();
    cache.remember('b', entry('b'), cache.beginRead());
    live = true;
    expect(cache.get('b')).toBeUndefined();
    const off = new MappingCache(0);
    off.remember('a', entry('a'), off.beginRead());
    expect(off.get('a')).toBeUndefined();
  });
});
