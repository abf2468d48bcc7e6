import { existsSync } from 'node:fs';
import { createApp } from './app';
import { Logger } from 'nestjs-pino';
import { DEV_ADMIN_API_KEY, DEV_INBOUND_API_KEY, loadAppConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadAppConfig(process.env);
  const app = await createApp(config);
  app.enableShutdownHooks();
  await app.listen(config.port, '0.0.0.0');
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

bootstrap().catch((error: unknown) => {
  // The logger may not exist yet: a boot failure goes to stderr as one readable message, no stack for config errors.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`capa-onboarding failed to start: ${message}\n`);
  process.exit(1);
});
