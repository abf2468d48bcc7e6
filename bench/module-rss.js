'use strict';
// What loading the service's dependencies costs in memory: RSS and V8 heap used after each require, in MB.
// Usage: npm run build && node bench/module-rss.js   (BENCHMARKS.md, "RSS")

const path = require('node:path');

const mb = (bytes) => Math.round(bytes / 1048576);
const modules = [
  'reflect-metadata',
  '@nestjs/core',
  '@nestjs/platform-fastify',
  '@nestjs/swagger',
  'class-validator',
  'class-transformer',
  'libphonenumber-js',
  'nestjs-pino',
  'prom-client',
  '@nestjs/terminus',
  '@nestjs/axios',
  'cockatiel',
  'pg',
  '@prisma/adapter-pg',
  path.join(__dirname, '..', 'dist', 'generated', 'prisma', 'client.js'),
  'helmet',
  '@fastify/static',
  'lru-cache',
];

const line = (label) => {
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`${label.padEnd(40)} rss ${String(mb(rss)).padStart(4)} MB   heap used ${String(mb(heapUsed)).padStart(3)} MB`);
};
line('(bare node)');
for (const name of modules) {
  require(name);
  line(name.includes('generated') ? 'Prisma client (generated)' : name);
}
