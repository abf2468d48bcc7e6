/** The most recent `capacity` latencies in a ring, for percentiles that follow current behaviour in bounded memory. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(latencyMs: number): void {
    if (this.samples.length < this.capacity) {
      this.samples.push(latencyMs);
    } else {
      this.samples[this.next] = latencyMs;
    }
    this.next = (this.next + 1) % this.capacity;
  }

  /** Nearest-rank percentile (0 < p <= 100) of the samples held; null before the first sample. */
  percentile(p: number): number | null {
    if (this.samples.length === 0) return null;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
  }
}
