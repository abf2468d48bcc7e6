import './instrument';
import type { INestApplication } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app';
import { Logger } from 'nestjs-pino';
import { AppConfig, DEV_ADMIN_API_KEY, DEV_INBOUND_API_KEY, loadAppConfig } from './config/app-config';
import { ShutdownState } from './health/shutdown-state';
import { connectSandboxWebhooks } from './capa-webhooks/sandbox-webhooks';
import { tracing } from './tracing/tracing';

async function bootstrap(): Promise<void> {
  const config = loadAppConfig(process.env);
  const app = await createApp(config);
  closeGracefullyOn(['SIGTERM', 'SIGINT'], app, config);
  await app.listen(config.port, '0.0.0.0');
  connectSandboxWebhooks(app);
  const logger = app.get(Logger);
  if (config.usesDevTokens) {
    logger.warn(
      `DEVELOPMENT TOKENS: INBOUND_API_KEYS/ADMIN_API_KEY are not set, so the built-in tokens ` +
        `"${DEV_INBOUND_API_KEY}" (inbound) and "${DEV_ADMIN_API_KEY}" (admin) are accepted. Never run like this in production.`,
      'Bootstrap',
    );
  }
  logger.log(`capa-onboarding listening on port ${config.port}`, 'Bootstrap');
}

/**
 * Nest's enableShutdownHooks re-raises the signal after closing, so the process would end "killed by SIGTERM".
 * Here a signal closes the app (readiness 503, in-flight requests and worker drain, leases released, pool closed)
 * and the process exits 0; if that takes longer than the grace period, it exits 1.
 */
function closeGracefullyOn(signals: NodeJS.Signals[], app: INestApplication, config: AppConfig): void {
  let closing = false;
  const close = async (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.get(ShutdownState).begin();
    app.get(Logger).log(`${signal} received: readiness is 503; draining`, 'Bootstrap');
    const limitMs = config.shutdownDelayMs + config.shutdownGraceMs + 5000;
    setTimeout(() => {
      process.stderr.write(`capa-onboarding did not drain within ${limitMs} ms; exiting\n`);
      process.exit(1);
    }, limitMs).unref();
    await sleep(config.shutdownDelayMs);
    const shutdown = app.get(ShutdownState);
    app.close().then(
      // Pending spans (the drain's included) are exported within what is left of SHUTDOWN_GRACE_MS.
      () => tracing.flush(shutdown.graceLeftMs(config.shutdownGraceMs)).then(() => process.exit(0)),
      (error: unknown) => {
        process.stderr.write(`capa-onboarding failed to close cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.once(signal, (received) => void close(received));
}

bootstrap().catch((error: unknown) => {
  // The logger may not exist yet: a boot failure goes to stderr as one readable message, no stack for config errors.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`capa-onboarding failed to start: ${message}\n`);
  process.exit(1);
});
