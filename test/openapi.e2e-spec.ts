/**
 * The OpenAPI document (/docs-json) against the live app: valid OpenAPI 3, one operation per route the Fastify
 * router really serves (derived from the router, not from a list), and every status the app answers to a few
 * harmless probes is documented with the error shape.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { RequestMethod } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiExcludeController, ApiExcludeEndpoint } from '@nestjs/swagger';
import { ADMIN_TOKEN, INBOUND_TOKEN, startTestApp, TestApp, TestResponse } from './support/test-app';

type Obj = Record<string, any>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ERROR_FIELDS = ['statusCode', 'code', 'message', 'details'];

describe('OpenAPI document', () => {
  let app: TestApp;
  let doc: Obj;

  beforeAll(async () => {
    app = await startTestApp();
    const response = await app.call('GET', '/docs-json');
    expect(response.status).toBe(200);
    doc = response.body;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it("has no errors under Redocly's built-in recommended ruleset (what `npx @redocly/cli lint` runs)", async () => {
    const { createConfig, lintFromString } = await import('@redocly/openapi-core');
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: '/docs-json', config });
    const errors = problems
      .filter((problem) => problem.severity === 'error')
      .map((problem) => `${problem.ruleId}: ${problem.message} (${problem.location[0]?.pointer ?? ''})`);
    expect(errors).toEqual([]);
    // Public operations say so explicitly; guarded ones name the bearer scheme.
    expect(doc.paths['/health/ready'].get.security).toEqual([]);
    expect(doc.paths['/metrics'].get.security).toEqual([]);
    expect(doc.paths['/v1/users'].post.security).toEqual([{ bearer: [] }]);
  });

  it('documents every route the app serves, and only those', () => {
    const served = servedRoutes(app.app);
    const excluded = excludedFromDocs(app.app);
    const undocumentedOnPurpose = (route: string) => route.split(' ')[1].startsWith('/docs') || excluded.has(route);
    const documented = operations(doc).map(({ method, path }) => routeKey(method, path.replace(/\{[^}]+\}/g, '{}')));

    expect(served.filter((route) => !undocumentedOnPurpose(route) && !documented.includes(route))).toEqual([]);
    expect(documented.filter((route) => !served.includes(route))).toEqual([]);
  });

  it('POST /v1/users documents every answer of the contract', () => {
    expect(Object.keys(doc.paths['/v1/users'].post.responses).sort()).toEqual(['200', '201', '202', '400', '401', '409', '413', '415', '422']);
  });

  it('every operation documents a success, and every 4xx refers to the error shape {statusCode, code, message, details}', () => {
    for (const { method, path, operation } of operations(doc)) {
      const route = `${method} ${path}`;
      const statuses = Object.keys(operation.responses);
      expect({ route, success: statuses.some((status) => /^[23]/.test(status)) }).toEqual({ route, success: true });
      for (const status of statuses.filter((s) => s.startsWith('4'))) {
        const schema = resolve(doc, operation.responses[status].content?.['application/json']?.schema) ?? {};
        const fields = Object.keys(schema.properties ?? {}).filter((field) => ERROR_FIELDS.includes(field));
        expect({ route, status, fields: fields.sort() }).toEqual({ route, status, fields: [...ERROR_FIELDS].sort() });
        expect({ route, status, required: schema.required }).toEqual({ route, status, required: expect.arrayContaining(['statusCode', 'code', 'message']) });
      }
    }
  });

  it('documents every status the app answers to probes: no token, unknown ids, invalid, non-JSON, oversized and malformed bodies', async () => {
    const undocumented: string[] = [];
    for (const { method, path, operation } of operations(doc)) {
      const url = path.replace(/\{[^}]+\}/g, () => encodeURIComponent(`openapi-probe-${Date.now()}/x`));
      const hasBody = operation.requestBody !== undefined;
      const probes: { name: string; send: (headers: Record<string, string>) => Promise<TestResponse> }[] = [
        { name: 'authorised', send: (headers) => app.call(method, url, hasBody ? {} : undefined, headers) },
      ];
      if (operation.security !== undefined) {
        probes.push({ name: 'no token', send: () => app.call(method, url, hasBody ? {} : undefined, { authorization: '' }) });
      }
      if (hasBody) {
        const json = { 'content-type': 'application/json' };
        probes.push(
          { name: 'text/plain body', send: (headers) => app.call(method, url, 'hello', { ...headers, 'content-type': 'text/plain' }) },
          { name: 'oversized body', send: (headers) => app.call(method, url, JSON.stringify({ padding: 'x'.repeat(20_000) }), { ...headers, ...json }) },
          { name: 'malformed JSON', send: (headers) => app.call(method, url, '{"unterminated', { ...headers, ...json }) },
        );
      }
      const headers = operation.security !== undefined ? await tokenFor(app, method, url, hasBody) : {};
      for (const probe of probes) {
        const response = await probe.send(headers);
        if (!(String(response.status) in operation.responses)) undocumented.push(`${method} ${path} (${probe.name}) answers ${response.status}`);
        if (response.status >= 400 && response.status < 500) {
          expect(response.body).toMatchObject({ statusCode: response.status, code: expect.any(String), message: expect.any(String) });
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('GET /docs answers the Swagger UI page', async () => {
    const response = await app.call('GET', '/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(String(response.body)).toMatch(/<html/i);
  });
});

function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

function operations(document: Obj): { method: string; path: string; operation: Obj }[] {
  return Object.entries(document.paths as Obj).flatMap(([path, item]) =>
    Object.entries(item as Obj)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation: operation as Obj })),
  );
}

function resolve(document: Obj, schema: Obj | undefined): Obj | undefined {
  if (schema?.$ref === undefined) return schema;
  return (schema.$ref as string).replace(/^#\//, '').split('/').reduce((node: Obj, part) => node?.[part], document);
}

/** The inbound token, or the admin token where the inbound one is refused. */
async function tokenFor(app: TestApp, method: string, url: string, hasBody: boolean): Promise<Record<string, string>> {
  for (const token of [INBOUND_TOKEN, ADMIN_TOKEN]) {
    const headers = { authorization: `Bearer ${token}` };
    if ((await app.call(method, url, hasBody ? {} : undefined, headers)).status !== 401) return headers;
  }
  throw new Error(`${method} ${url}: no test token is accepted`);
}

/**
 * Routes in Fastify's router, as "METHOD /path/{}". Read from printRoutes' tree (Fastify has no public route list
 * once routes are registered), then each one confirmed with hasRoute so a misread tree cannot pass silently.
 * HEAD routes Fastify adds next to GET ones are left out.
 */
function servedRoutes(nest: NestFastifyApplication): string[] {
  const fastify = nest.getHttpAdapter().getInstance();
  const segments: string[] = [];
  const routes: { method: string; url: string }[] = [];
  for (const line of fastify.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    segments.length = depth;
    segments.push(match[2]);
    // Parameters sharing a node print as ":a|b"; any of the names matches.
    const url = segments.join('').replace(/:(\w+)(\|\w+)+/g, ':$1');
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url });
  }
  for (const route of routes) expect({ ...route, found: fastify.hasRoute(route as never) }).toEqual({ ...route, found: true });
  const keys = routes.map(({ method, url }) => routeKey(method, url.replace(/:\w+/g, '{}')));
  return [...new Set(keys)].filter((key) => !(key.startsWith('HEAD ') && keys.includes(key.replace(/^HEAD/, 'GET'))));
}

/** Routes whose Nest controller or handler opts out of the document with @ApiExcludeController / @ApiExcludeEndpoint. */
function excludedFromDocs(nest: NestFastifyApplication): Set<string> {
  // The decorators' metadata keys are internal to @nestjs/swagger: learn them by decorating a probe.
  class ProbeController {
    handler(): void {}
  }
  ApiExcludeController()(ProbeController);
  const descriptor = Object.getOwnPropertyDescriptor(ProbeController.prototype, 'handler')!;
  ApiExcludeEndpoint()(ProbeController.prototype, 'handler', descriptor);
  const [controllerKey] = Reflect.getMetadataKeys(ProbeController);
  const [endpointKey] = Reflect.getMetadataKeys(descriptor.value);
  const same = (key: string, target: object, probe: object) => JSON.stringify(Reflect.getMetadata(key, target)) === JSON.stringify(Reflect.getMetadata(key, probe));

  const excluded = new Set<string>();
  for (const module of nest.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!type) continue;
      const controllerExcluded = same(controllerKey, type, ProbeController);
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        const handler = type.prototype[name];
        const method = Reflect.getMetadata('method', handler) as RequestMethod | undefined;
        const path = Reflect.getMetadata('path', handler) as string | string[] | undefined;
        if (method === undefined || path === undefined) continue;
        if (!controllerExcluded && !same(endpointKey, handler, descriptor.value)) continue;
        for (const base of [Reflect.getMetadata('path', type) ?? ''].flat()) {
          for (const sub of [path].flat()) {
            const url = `/${[base, sub].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
            excluded.add(routeKey(RequestMethod[method], url.replace(/:\w+/g, '{}')));
          }
        }
      }
    }
  }
  return excluded;
}
