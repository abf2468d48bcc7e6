import type { Params } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger as PinoInstance } from 'pino';
import type { AppConfig } from '../config/app-config';

/** Probes are polled every few seconds by Kubernetes; a line each would drown the log. */
const UNLOGGED_URLS = new Set(['/health/live', '/health/ready']);

/**
 * Errors are logged as these fields only. Library errors carry their request (an AxiosError holds the Capa call's
 * headers, the partner key among them), so whatever else they hold never reaches a log line.
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return {
    type: error.constructor.name,
    message: error.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: error.stack,
  };
}

/**
 * nestjs-pino for everything the app logs (JSON lines through one pino logger). Secrets stay out by construction,
 * not by redaction: requests are logged as id, method and url (never headers or bodies), errors as serializeError's
 * fields, and nothing logs config. (pino's path redaction cost a quarter of the throughput of cached answers.)
 *
 * The request line is written by logRequest from a Fastify onResponse hook, not by nestjs-pino's pino-http
 * middleware: that middleware ran through @fastify/middie and built a child logger and an AsyncLocalStorage scope for
 * every request, about a fifth of the CPU of a cached answer (measured; BENCHMARKS.md). Log lines written while
 * serving a request name it explicitly (`reqId`), e.g. the Capa-call line.
 */
export function loggerParams(config: AppConfig): Params {
  return {
    forRoutes: [],
    pinoHttp: {
      level: config.logLevel,
      // pino-http would otherwise install pino's standard req/res serializers, which log every header.
      serializers: {
        err: serializeError,
        req: (request: { id?: unknown; method?: unknown; url?: unknown }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: { statusCode?: unknown }) => ({ statusCode: response.statusCode }),
      },
      wrapSerializers: false,
    },
  };
}

/**
 * A route's config (Nest's RouteConfig) may name statuses it answers without a request line: refusals anyone can
 * provoke on a public route (an unsigned webhook), counted in a metric and summarised by the route itself instead.
 */
export interface QuietRouteConfig {
  unloggedStatuses?: readonly number[];
  /** The query string is logged as `?[not logged]` (it carries an authorization code and state, say). */
  unloggedQuery?: boolean;
}

/** One JSON line per answered request (pino-http's field names): id, method, url, status and time taken. */
export function logRequest(logger: PinoInstance, request: FastifyRequest, reply: FastifyReply): void {
  if (UNLOGGED_URLS.has(request.url)) return;
  const statusCode = reply.statusCode;
  const quiet = request.routeOptions?.config as QuietRouteConfig | undefined;
  if (quiet?.unloggedStatuses?.includes(statusCode)) return;
  const query = request.url.indexOf('?');
  const url = quiet?.unloggedQuery === true && query >= 0 ? `${request.url.slice(0, query)}?[not logged]` : request.url;
  const level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      req: { id: request.id, method: request.method, url },
      res: { statusCode },
      responseTime: Math.round(reply.elapsedTime),
    },
    statusCode >= 500 ? 'request errored' : 'request completed',
  );
}
