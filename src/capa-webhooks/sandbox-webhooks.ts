import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { CapaEndpoint } from '../capa/capa-endpoint';

/** In sandbox mode, points the built-in simulator's webhooks at this service's own receiver (call once listening). */
export function connectSandboxWebhooks(app: INestApplication): void {
  const endpoint = app.get(CapaEndpoint, { strict: false });
  if (!endpoint.isSandbox) return;
  const { port } = app.getHttpServer().address() as AddressInfo;
  endpoint.sendSandboxWebhooksTo(`http://127.0.0.1:${port}/webhooks/capa`);
}
