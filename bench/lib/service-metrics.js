'use strict';
// The service's memory as it reports it on /metrics (prom-client's default metrics, and the mapping cache's gauge).

const toMb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;

/**
 * V8's heap by space in MB, committed and used (spaces with nothing committed left out); memory V8 knows of outside
 * its heap (external); the mappings the cache holds.
 */
async function serviceHeap(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const spaces = (kind) => {
    const found = {};
    for (const match of text.matchAll(new RegExp(`^nodejs_heap_space_size_${kind}_bytes\\{space="([a-z_]+)"\\} (\\S+)$`, 'gm'))) {
      const bytes = Number(match[2]);
      if (bytes > 0) found[match[1]] = toMb(bytes);
    }
    return found;
  };
  const one = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { committed: spaces('total'), used: spaces('used'), externalMb: toMb(one('nodejs_external_memory_bytes')), cached: one('mapping_cache_entries') };
}

/** The sum of a by-space reading, in MB. */
const totalMb = (bySpace) => Math.round(Object.values(bySpace).reduce((a, b) => a + b, 0) * 10) / 10;

module.exports = { serviceHeap, totalMb };
