'use strict';
// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package / area.
// Usage: node bench/profile-summary.js <file.cpuprofile> [top=25]

const { readFileSync } = require('node:fs');

function areaOf(url, functionName) {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return '(program: native, not attributed)';
    return `(native) ${functionName}`;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node core';
  const dist = url.indexOf('/dist/');
  if (dist !== -1) {
    const parts = url.slice(dist + '/dist/'.length).split('/');
    return parts[0] === 'generated' ? 'src/generated (Prisma client)' : `src/${parts.length > 1 ? parts[0] : parts[0]}`;
  }
  return url;
}

function summarise(path, top = 25) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const samples = profile.samples || [];
  const deltas = profile.timeDeltas || [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to this sample (as DevTools does).
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(dt, 0));
  }
  const byFunction = new Map();
  const byArea = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const area = areaOf(callFrame.url, callFrame.functionName);
    if (area === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const file = callFrame.url ? callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/') : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${file}${file ? `:${callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const rank = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), pct: Math.round((us / total) * 1000) / 10 }));
  return { file: path, busyMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), byArea: rank(byArea), byFunction: rank(byFunction) };
}

function print(summary, out = process.stdout) {
  out.write(`\n${summary.file}: ${summary.busyMs} ms busy, ${summary.idleMs} ms idle\n  self time by package / area:\n`);
  for (const row of summary.byArea) out.write(`    ${String(row.pct).padStart(5)}%  ${String(row.ms).padStart(7)} ms  ${row.name}\n`);
  out.write('  hottest functions (self time):\n');
  for (const row of summary.byFunction) out.write(`    ${String(row.pct).padStart(5)}%  ${String(row.ms).padStart(7)} ms  ${row.name}\n`);
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  print(summarise(file, Number(top || 25)));
}

module.exports = { summarise, print };
