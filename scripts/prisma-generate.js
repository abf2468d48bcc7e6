#!/usr/bin/env node
// `prisma generate` needs no engine binary with Prisma 7's client, but the CLI still looks for the schema
// engine and tries to download it. Offline (CI, air-gapped builds) any existing file satisfies that check.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, 'generate', ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
