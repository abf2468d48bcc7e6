'use strict';
// The node flags the service ships with (package.json's `start` script, which the Dockerfile's CMD mirrors), so every
// bench starts the service exactly as `npm start` does. BENCH_SERVICE_NODE_OPTIONS / _ARGS still add to them.
const { readFileSync } = require('node:fs');
const path = require('node:path');

function shippedNodeFlags(repo = path.join(__dirname, '..', '..')) {
  const { scripts } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const match = /^node\s+(.*?)\s*dist\/main\.js$/.exec(scripts.start.trim());
  if (!match) throw new Error(`package.json's start script is not "node [flags] dist/main.js": ${scripts.start}`);
  return match[1].split(/\s+/).filter(Boolean);
}

module.exports = { shippedNodeFlags };
