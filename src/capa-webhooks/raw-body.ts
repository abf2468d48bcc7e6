import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { QuietRouteConfig } from '../common/logging';

interface RawBodyRouteConfig extends QuietRouteConfig {
  rawBody?: { bodyLimit: number };
}

/**
 * Marks a route whose handler receives the request body as the raw bytes (a Buffer, never parsed), up to
 * `bodyLimit` bytes instead of the server's limit. For receivers that must check a signature over exactly what was sent.
 * `unloggedStatuses`: refusals answered without a request line (see QuietRouteConfig).
 */
export const RawBody = (bodyLimit: number, options: QuietRouteConfig = {}) =>
  RouteConfig({ rawBody: { bodyLimit }, ...options } satisfies RawBodyRouteConfig);

/**
 * Fastify parses JSON before any handler runs, with one limit for the whole server. Routes marked @RawBody get their
 * own limit (set on the route as Nest registers it, so an oversized body is refused before anything is computed)
 * and the bytes as received; every other route keeps Fastify's own JSON parser and the server's limit.
 * Must run before the routes are registered (createApp, before app.init()).
 */
export function installRawBodyRoutes(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const rawBody = (route.config as RawBodyRouteConfig | undefined)?.rawBody;
    if (rawBody !== undefined) route.bodyLimit = rawBody.bodyLimit;
  });
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if ((request.routeOptions.config as RawBodyRouteConfig).rawBody !== undefined) return done(null, body);
    parseJson(request, body as Buffer & string, done);
  });
}
