import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { CapaSimulator, DEFAULT_SANDBOX_API_KEY } from './capa-simulator';

/** The built-in Capa simulator of sandbox mode, as the service's Capa endpoint sees it. */
export class EmbeddedSimulator {
  readonly partnerApiKey = DEFAULT_SANDBOX_API_KEY;

  private constructor(
    private readonly simulator: CapaSimulator,
    readonly baseUrl: string,
  ) {}

  /** Starts the simulator. It signs its webhooks with the service's first secret (generated when CAPA_WEBHOOK_SECRETS is unset). */
  static async start(config: AppConfig): Promise<EmbeddedSimulator> {
    const simulator = new CapaSimulator({ apiKeys: [DEFAULT_SANDBOX_API_KEY], webhooks: { secret: config.capaWebhookSecrets[0] } });
    return new EmbeddedSimulator(simulator, await simulator.start(config.sandboxPort, '127.0.0.1'));
  }

  /** The warning every sandbox boot logs (call once the application's logger is in place). */
  announce(config: AppConfig): void {
    const baseUrl = this.baseUrl;
    new Logger('CapaEndpoint').warn(
      `SANDBOX MODE: CAPA_BASE_URL is not set, so signups go to the built-in Capa simulator at ${baseUrl}. ` +
        'No real Capa user is created. Set CAPA_BASE_URL and CAPA_PARTNER_API_KEY to talk to Capa. ' +
        `Simulate Capa's KYC webhooks with POST ${baseUrl}/__sim/kyc/{externalUserId} {"event":"VERIFIED_USER"}` +
        (config.webhookSecretGenerated ? ' (the simulator and /webhooks/capa share a generated secret).' : '.'),
    );
  }

  sendWebhooksTo(url: string): void {
    this.simulator.configureWebhooks({ url });
  }

  stop(): Promise<void> {
    return this.simulator.stop();
  }
}
