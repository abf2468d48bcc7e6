import { CapaSimulator, DEFAULT_SANDBOX_API_KEY } from './capa-simulator';

const DEFAULT_PORT = 4010;

function portFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SANDBOX_PORT is not a valid port: ${raw}`);
  return port;
}

async function main(): Promise<void> {
  const retryScale = Number(process.env.SANDBOX_WEBHOOK_RETRY_SCALE || '1');
  if (!Number.isFinite(retryScale) || retryScale < 0) throw new Error('SANDBOX_WEBHOOK_RETRY_SCALE must be a non-negative number');
  const simulator = new CapaSimulator({
    apiKeys: [process.env.CAPA_PARTNER_API_KEY || DEFAULT_SANDBOX_API_KEY],
    // Where Capa's webhooks go (the service's /webhooks/capa) and the secret they are signed with (one of its CAPA_WEBHOOK_SECRETS).
    webhooks: { url: process.env.SANDBOX_WEBHOOK_URL || null, secret: process.env.SANDBOX_WEBHOOK_SECRET || undefined, retryScale },
  });
  const url = await simulator.start(portFromEnv(process.env.SANDBOX_PORT), process.env.SANDBOX_HOST || '127.0.0.1');
  console.log(`Capa simulator listening on ${url}`);

  const shutdown = () => {
    simulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error('Capa simulator failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
