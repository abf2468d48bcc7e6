import { existsSync } from 'node:fs';
import { applyServiceDefaults, tracingRequested } from './tracing/otel-environment';
import { tracing } from './tracing/tracing';

/**
 * The entry's first import, before any module the tracing instruments (http, pg, undici, pino) is loaded: reads
 * `.env`, then starts OpenTelemetry if the OTEL_* environment asks for it. Otherwise no OpenTelemetry module is loaded.
 */
if (existsSync('.env')) process.loadEnvFile('.env');
if (tracingRequested(process.env)) {
  applyServiceDefaults(process.env);
  const { startTracingSdk } = require('./tracing/tracing-sdk') as typeof import('./tracing/tracing-sdk');
  tracing.activate(startTracingSdk());
}
