import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AppMetrics } from './metrics/app-metrics';
import { setupOpenApi } from './openapi';
import openApiMetadata from './generated/openapi-metadata';
import { requestIdFor } from './common/request-id';
import { logRequest } from './common/logging';
import { securityHeaders } from './common/security-headers';
import { AppConfig } from './config/app-config';
import { installRawBodyRoutes } from './capa-webhooks/raw-body';
import { installAuditHook } from './audit/audit-hook';
import { AuditService } from './audit/audit.service';
import { ShutdownState } from './health/shutdown-state';
import { tracing } from './tracing/tracing';
import type { EmbeddedSimulator } from './sandbox/embedded-simulator';

export const BODY_LIMIT_BYTES = 16 * 1024;

/** Builds the whole service (not listening yet): used by main.ts and by the end-to-end tests. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const sandbox = await startSandbox(config);
  try {
    return await buildApp(config, sandbox);
  } catch (error) {
    await sandbox?.stop();
    throw error;
  }
}

/**
 * Sandbox mode (no CAPA_BASE_URL, never in production): the built-in Capa simulator, started before the modules so
 * that the Capa endpoint finds it. Loaded only then: a production process never loads the simulator.
 */
async function startSandbox(config: AppConfig): Promise<EmbeddedSimulator | undefined> {
  if (config.capaBaseUrl !== undefined || config.isProduction) return undefined;
  const { EmbeddedSimulator: Simulator } = require('./sandbox/embedded-simulator') as typeof import('./sandbox/embedded-simulator');
  return Simulator.start(config);
}

async function buildApp(config: AppConfig, sandbox: EmbeddedSimulator | undefined): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdFor,
    // No Nest middleware is used (requests are logged by the onResponse hook below), so middie is not mounted.
    skipMiddie: true,
    // The proxy in front (ingress) terminates TLS; ids in paths may contain encoded '/', so keep them encoded.
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 512 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, sandbox), adapter, {
    bufferLogs: true,
    // Fastify's own JSON parser stays; Nest's extra parsers (urlencoded) would accept non-JSON bodies.
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  sandbox?.announce(config);
  const fastify = app.getHttpAdapter().getInstance();
  // Only JSON bodies are accepted: without Fastify's default text/plain parser, other types get 415.
  fastify.removeContentTypeParser('text/plain');
  installRawBodyRoutes(fastify);
  tracing.nameServerSpans(fastify);
  installAuditHook(fastify, app.get(AuditService));
  const metrics = app.get(AppMetrics);
  fastify.addHook('onResponse', (request, reply, done) => {
    // The route template (never the raw URL) keeps ids out of metric labels.
    metrics.recordRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    logRequest(PinoLogger.root, request, reply);
    done();
  });
  const headers = securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id).headers(headers);
    // A route's @RouteConfig({ cacheControl }) holds for every answer of it, errors included (set before any guard).
    const cacheControl = (request.routeOptions.config as { cacheControl?: string } | undefined)?.cacheControl;
    if (cacheControl !== undefined) void reply.header('cache-control', cacheControl);
    done();
  });
  const shutdown = app.get(ShutdownState);
  // Once draining, every answer closes its connection: an idle keep-alive socket would hold the server's close open
  // (Fastify's keepAliveTimeout is 72 s) long after the last in-flight request finished.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (shutdown.isShuttingDown) void reply.header('connection', 'close');
    done(null, payload);
  });
  await setupOpenApi(app, openApiMetadata);
  return app;
}
