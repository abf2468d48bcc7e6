/**
 * Event counts over the last `windowMs`, kept in `bucketCount` time buckets. A bucket that has left the window no
 * longer counts, however long nothing happened (a ring that only rotates on new events would keep counting it).
 */
export class RollingCounts<K extends string> {
  private readonly bucketMs: number;
  private readonly buckets: Array<{ start: number; counts: Record<K, number> }>;

  constructor(
    private readonly keys: readonly K[],
    readonly windowMs: number,
    bucketCount = 10,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / bucketCount));
    this.buckets = Array.from({ length: bucketCount }, () => ({ start: Number.NEGATIVE_INFINITY, counts: this.zero() }));
  }

  add(key: K, amount = 1): void {
    const start = Math.floor(this.now() / this.bucketMs) * this.bucketMs;
    const bucket = this.buckets[Math.floor(start / this.bucketMs) % this.buckets.length];
    if (bucket.start !== start) {
      bucket.start = start;
      bucket.counts = this.zero();
    }
    bucket.counts[key] += amount;
  }

  /** The counts of the buckets that started within the last windowMs (the current one included). */
  totals(): Record<K, number> {
    const oldest = this.now() - this.windowMs;
    const totals = this.zero();
    for (const bucket of this.buckets) {
      if (bucket.start <= oldest) continue;
      for (const key of this.keys) totals[key] += bucket.counts[key];
    }
    return totals;
  }

  private zero(): Record<K, number> {
    return Object.fromEntries(this.keys.map((key) => [key, 0])) as Record<K, number>;
  }
}
