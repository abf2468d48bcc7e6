import type { SignupRecord } from './signup.types';

/**
 * Recently seen CREATED signups, least recently used evicted first. Safe without invalidation, also across replicas,
 * because a CREATED row never changes: its userId is final and nothing moves it to another state.
 */
export class CreatedMappingCache {
  private readonly entries = new Map<string, SignupRecord>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(externalUserId: string): SignupRecord | undefined {
    const row = this.entries.get(externalUserId);
    if (row !== undefined) {
      this.entries.delete(externalUserId);
      this.entries.set(externalUserId, row);
    }
    return row;
  }

  /** Remembers the row if it is CREATED; any other state can still change and is never cached. */
  remember(row: SignupRecord | null): void {
    if (row === null || row.status !== 'CREATED' || this.maxEntries === 0) return;
    this.entries.delete(row.externalUserId);
    this.entries.set(row.externalUserId, row);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
