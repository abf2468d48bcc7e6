import { Gauge, Registry } from 'prom-client';

/** Every scrape within this long of a database reading shares it (all replicas are scraped; counting can scan). */
export const SCRAPE_READING_TTL_MS = 10_000;

/**
 * `read`, shared by every caller for `ttlMs` after it started; a reading that fails is forgotten at once, so the next
 * scrape asks again.
 */
export function sharedReading<T>(read: () => Promise<T>, ttlMs = SCRAPE_READING_TTL_MS): () => Promise<T> {
  let reading: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (reading === undefined || Date.now() - reading.at > ttlMs) {
      const current = { at: Date.now(), value: read() };
      reading = current;
      current.value.catch(() => {
        if (reading === current) reading = undefined;
      });
    }
    return reading.value;
  };
}

export interface ScrapeGauge<L extends string> {
  registry: Registry;
  name: string;
  help: string;
  /** One series per value of `label`, each read from the counts (0 when absent). */
  label: string;
  values: readonly L[];
  counts: () => Promise<Partial<Record<L, number>>>;
}

/** A gauge read at scrape time with one series per known label value (a state, a status). */
export function scrapeGaugeByLabel<L extends string>(gauge: ScrapeGauge<L>): Gauge {
  const { counts, label, values } = gauge;
  return new Gauge({
    name: gauge.name,
    help: gauge.help,
    labelNames: [label],
    registers: [gauge.registry],
    async collect() {
      const read = await counts();
      for (const value of values) this.set({ [label]: value }, read[value] ?? 0);
    },
  });
}

/** A gauge of one number read at scrape time. */
export function scrapeGauge(registry: Registry, name: string, help: string, read: () => Promise<number>): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });
}
