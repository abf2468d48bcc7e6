import { SignupMapping, SignupRecord, toMapping } from './signup.types';

/** What a CREATED signup answers with, kept ready: its payload fingerprint and its (frozen) mapping. */
export interface CreatedMapping {
  readonly fingerprint: string;
  readonly mapping: Readonly<SignupMapping>;
}

/**
 * Recently seen CREATED signups, least recently used evicted first. Safe without invalidation, also across replicas,
 * because a CREATED row never changes: its userId is final and nothing moves it to another state.
 */
export class CreatedMappingCache {
  private readonly entries = new Map<string, CreatedMapping>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(externalUserId: string): CreatedMapping | undefined {
    const entry = this.entries.get(externalUserId);
    if (entry !== undefined) {
      this.entries.delete(externalUserId);
      this.entries.set(externalUserId, entry);
    }
    return entry;
  }

  /** Remembers the row if it is CREATED; any other state can still change and is never cached. */
  remember(row: SignupRecord | null): void {
    if (row === null || row.status !== 'CREATED' || this.maxEntries === 0) return;
    this.entries.delete(row.externalUserId);
    this.entries.set(row.externalUserId, { fingerprint: row.fingerprint, mapping: Object.freeze(toMapping(row)) });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
