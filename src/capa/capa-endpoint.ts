import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CapaSimulator } from '../sandbox/capa-simulator';

/** Where Capa is and the key to present: the configured Capa, or the built-in sandbox outside production. */
export class CapaEndpoint {
  private constructor(
    readonly baseUrl: string,
    readonly partnerApiKey: string,
    private readonly sandbox?: CapaSimulator,
  ) {}

  get isSandbox(): boolean {
    return this.sandbox !== undefined;
  }

  static async open(config: AppConfig): Promise<CapaEndpoint> {
    if (config.capaBaseUrl !== undefined) return new CapaEndpoint(config.capaBaseUrl, config.capaPartnerApiKey ?? '');
    if (config.isProduction) throw new Error('CAPA_BASE_URL is required in production');
    const partnerApiKey = 'sandbox-partner-key';
    // The simulator signs its webhooks with the service's first secret (generated when CAPA_WEBHOOK_SECRETS is unset).
    const sandbox = new CapaSimulator({ apiKeys: [partnerApiKey], webhooks: { secret: config.capaWebhookSecrets[0] } });
    const baseUrl = await sandbox.start(config.sandboxPort, '127.0.0.1');
    new Logger('CapaEndpoint').warn(
      `SANDBOX MODE: CAPA_BASE_URL is not set, so signups go to the built-in Capa simulator at ${baseUrl}. ` +
        'No real Capa user is created. Set CAPA_BASE_URL and CAPA_PARTNER_API_KEY to talk to Capa. ' +
        `Simulate Capa's KYC webhooks with POST ${baseUrl}/__sim/kyc/{externalUserId} {"event":"VERIFIED_USER"}` +
        (config.webhookSecretGenerated ? ' (the simulator and /webhooks/capa share a generated secret).' : '.'),
    );
    return new CapaEndpoint(baseUrl, partnerApiKey, sandbox);
  }

  /** Sandbox only: where the built-in simulator sends its webhooks (the service's own receiver, once it listens). */
  sendSandboxWebhooksTo(url: string): void {
    this.sandbox?.configureWebhooks({ url });
  }

  async close(): Promise<void> {
    await this.sandbox?.stop();
  }
}
