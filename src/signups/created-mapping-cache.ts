import { LRUCache } from 'lru-cache';
import { SignupRecord, toMapping } from './signup.types';

/** What a CREATED signup answers with, kept ready: its payload fingerprint and its mapping as JSON text. */
export interface CreatedMapping {
  readonly fingerprint: string;
  readonly json: string;
}

/**
 * Recently seen CREATED signups, least recently used evicted first. Safe without invalidation, also across replicas,
 * because a CREATED row never changes: its userId is final and nothing moves it to another state.
 */
export class CreatedMappingCache {
  private readonly entries: LRUCache<string, CreatedMapping> | undefined;

  constructor(maxEntries: number) {
    this.entries = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  get(externalUserId: string): CreatedMapping | undefined {
    return this.entries?.get(externalUserId);
  }

  /**
   * Remembers the row if it is CREATED (any other state can still change and is never cached) and answers its entry.
   * An entry already there is kept as it is: a CREATED row never changes.
   */
  remember(row: SignupRecord | null): CreatedMapping | undefined {
    if (row === null || row.status !== 'CREATED' || this.entries === undefined) return undefined;
    let entry = this.entries.get(row.externalUserId);
    if (entry === undefined) {
      entry = { fingerprint: row.fingerprint, json: JSON.stringify(toMapping(row)) };
      this.entries.set(row.externalUserId, entry);
    }
    return entry;
  }
}
