import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppConfig } from '../config/app-config';

/** Paths no log line may ever carry, wherever they appear: keys, tokens, credentials. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["partner-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["partner-api-key"]',
  'config.headers',
  'err.config',
  'err.request',
  'err.response.config',
  '*.partnerApiKey',
  '*.capaPartnerApiKey',
  '*.adminApiKey',
  '*.inboundApiKeys',
];

/** nestjs-pino: JSON lines, one per request with the request id, never headers or bodies. */
export function loggerParams(config: AppConfig): Params {
  return {
    // nestjs-pino's default route list does not match under NestJS 12 + Fastify; name every route explicitly.
    forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.logLevel,
      genReqId: (request: IncomingMessage) => (request as IncomingMessage & { id?: string }).id ?? 'unknown',
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      serializers: {
        req: (request: IncomingMessage & { id?: string }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: ServerResponse) => ({ statusCode: response.statusCode }),
      },
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (request) => request.url === '/health/live' || request.url === '/health/ready' },
      quietReqLogger: true,
    },
  };
}
