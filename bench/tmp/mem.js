const mb = () => Math.round(process.memoryUsage().rss / 1048576);
const heap = () => Math.round(process.memoryUsage().heapUsed / 1048576);
const steps = ['reflect-metadata', '@nestjs/core', '@nestjs/platform-fastify', 'fastify', '@nestjs/swagger', 'class-validator', 'class-transformer', 'libphonenumber-js', 'pino', 'nestjs-pino', 'prom-client', '@nestjs/terminus', 'axios', '@nestjs/axios', 'cockatiel', 'pg', '@prisma/adapter-pg', '/work/main/dist/generated/prisma/client.js', '@electric-sql/pglite', 'helmet', '@fastify/static'];
console.log('start', mb(), heap());
for (const s of steps) { require(s); console.log(s.padEnd(45), mb(), heap()); }
