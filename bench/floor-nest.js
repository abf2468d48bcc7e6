'use strict';
// The floor under the service: NestJS 12 + Fastify with one controller answering a constant mapping, nothing else
// (no auth, validation, logging, metrics or headers). Compare its CPU per request with the service's (BENCHMARKS.md).
// Usage: node bench/floor-nest.js [port=9310], then load it, e.g.
//   node node_modules/autocannon/autocannon.js -c 50 -d 10 http://127.0.0.1:9310/v1/users/x
//   node node_modules/autocannon/autocannon.js -c 50 -d 10 -m POST -H content-type=application/json -b '{"externalUserId":"x"}' http://127.0.0.1:9310/v1/users
// and read its CPU time from /proc/<pid>/stat before and after (or `ps -o cputime`).

require('reflect-metadata');
const { Body, Controller, Get, HttpCode, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

const MAPPING = JSON.stringify({
  externalUserId: 'x',
  userId: '19caa62c-dace-4363-9945-2dda3d1e07b4',
  status: 'CREATED',
  method: 'EMAIL',
  identifier: 'x@bench.example',
  userType: 'INDIVIDUAL',
  alias: 'Bench x',
  createdAt: '2026-11-27T04:02:47.242Z',
  updatedAt: '2026-11-27T04:02:47.260Z',
});

class Users {
  register() {
    return MAPPING;
  }
  read() {
    return MAPPING;
  }
}
const method = (name) => Object.getOwnPropertyDescriptor(Users.prototype, name);
Reflect.decorate([Post(), HttpCode(200), Reflect.metadata('design:paramtypes', [Object])], Users.prototype, 'register', method('register'));
Body()(Users.prototype, 'register', 0);
Reflect.decorate([Get(':externalUserId')], Users.prototype, 'read', method('read'));
const UsersController = Reflect.decorate([Controller('v1/users')], Users);
const FloorModule = Reflect.decorate([Module({ controllers: [UsersController] })], class FloorModule {});

NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false })
  .then((app) => app.listen(Number(process.argv[2] ?? 9310), '127.0.0.1'))
  .then(() => console.log(`floor app (pid ${process.pid}) listening`));
