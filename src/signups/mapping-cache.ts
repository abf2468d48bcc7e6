import type { SignupRecord } from './signup.types';

/** The channel every change to a CREATED signup is announced on (its externalUserId), by a trigger at commit. */
export const MAPPING_CHANGED = 'mapping_changed';

/** What a CREATED mapping needs to answer a read or a replay without the database. */
export interface CachedMapping {
  /** The payload's fingerprint as stored: a replay with another payload is a conflict, not a replay. */
  fingerprint: string;
  /** The row's salt once erased (the stored fingerprint is then salted: saltedFingerprint), else null. */
  fingerprintSalt: string | null;
  /** The mapping as `GET /v1/users/{id}` and a replay answer it, as JSON text (serialised once). */
  json: string;
}

/** What the cache keeps of a CREATED row, with its mapping already serialised. */
export function cachedMappingOf(row: SignupRecord, json: string): CachedMapping {
  return { fingerprint: row.fingerprint, fingerprintSalt: row.fingerprintSalt ?? null, json };
}

/** A read in progress: what the cache looked like when it began, so that a change heard meanwhile wins. */
export type ReadToken = number;

/**
 * CREATED mappings by externalUserId, bounded (least recently used out first). Correct only together with a feed of
 * changes: `forget` for each changed mapping, `forgetAll` whenever changes may have been missed. `usable` is false
 * while that feed is not live: nothing is answered from memory nor remembered then.
 *
 * A read that missed the cache remembers its answer only if no change was heard since it began (`beginRead`): a change
 * that commits while the row is being read would otherwise be overwritten by the older value read before it.
 */
export class MappingCache {
  private readonly entries = new Map<string, CachedMapping>();
  /** Bumped by every change heard: a read that began before it may not remember what it read. */
  private generation = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    readonly maxEntries: number,
    private readonly isUsable: () => boolean = () => true,
  ) {}

  get usable(): boolean {
    return this.maxEntries > 0 && this.isUsable();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Hits and misses since start (reads made while not usable count as misses). */
  get counts(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }

  get(externalUserId: string): CachedMapping | undefined {
    const entry = this.usable ? this.entries.get(externalUserId) : undefined;
    if (entry === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    // Most recently used last: Map keeps insertion order, so re-inserting moves it to the end.
    this.entries.delete(externalUserId);
    this.entries.set(externalUserId, entry);
    return entry;
  }

  beginRead(): ReadToken {
    return this.generation;
  }

  /** Remembers a CREATED mapping read from the database since `token`, unless a change was heard meanwhile. */
  remember(externalUserId: string, entry: CachedMapping, token: ReadToken): void {
    if (token !== this.generation || !this.usable) return;
    this.entries.delete(externalUserId);
    this.entries.set(externalUserId, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  forget(externalUserId: string): void {
    this.generation += 1;
    this.entries.delete(externalUserId);
  }

  forgetAll(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
