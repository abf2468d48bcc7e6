import { ModuleRef } from '@nestjs/core';
import { AppConfig } from '../config/app-config';

/**
 * A Capa this process runs itself: the sandbox's simulator, which the entry starts outside production when
 * CAPA_BASE_URL is unset, and registers under EMBEDDED_CAPA. capa/ knows only this shape, never the simulator.
 */
export interface EmbeddedCapa {
  readonly baseUrl: string;
  readonly partnerApiKey: string;
  /** Where its webhooks go: the service's own receiver, once it listens. */
  sendWebhooksTo(url: string): void;
  stop(): Promise<void>;
}

export const EMBEDDED_CAPA = Symbol('EmbeddedCapa');

/** Where Capa is and the key to present: the configured Capa, or the built-in sandbox outside production. */
export class CapaEndpoint {
  private constructor(
    readonly baseUrl: string,
    readonly partnerApiKey: string,
    private readonly sandbox?: EmbeddedCapa,
  ) {}

  get isSandbox(): boolean {
    return this.sandbox !== undefined;
  }

  static open(config: AppConfig, sandbox?: EmbeddedCapa): CapaEndpoint {
    if (config.capaBaseUrl !== undefined) return new CapaEndpoint(config.capaBaseUrl, config.capaPartnerApiKey ?? '');
    if (config.isProduction) throw new Error('CAPA_BASE_URL is required in production');
    if (sandbox === undefined) throw new Error('CAPA_BASE_URL is not set and no sandbox Capa was started (createApp starts one)');
    return new CapaEndpoint(sandbox.baseUrl, sandbox.partnerApiKey, sandbox);
  }

  /** The embedded Capa the entry registered in this application, if any (looked up by token: capa/ cannot import it). */
  static embeddedIn(modules: ModuleRef): EmbeddedCapa | undefined {
    try {
      return modules.get<EmbeddedCapa | null>(EMBEDDED_CAPA, { strict: false }) ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** Sandbox only: where the built-in simulator sends its webhooks (the service's own receiver, once it listens). */
  sendSandboxWebhooksTo(url: string): void {
    this.sandbox?.sendWebhooksTo(url);
  }

  async close(): Promise<void> {
    await this.sandbox?.stop();
  }
}
