import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EventReceiver } from './event-receiver';
import { forwardTo, startReplica, startTestApp, TestApp } from './test-app';

/** EVENT_WEBHOOK_URLS in this order: receivers are started and listed by URL; a function answers a URL as is. */
export type Endpoint = EventReceiver | (() => Promise<string>);

export interface PushingApp {
  service: TestApp;
  /** Only with `{ replica: true }`. */
  replica: NestFastifyApplication;
}

/**
 * A test app pushing events to `endpoints` over plain http, signed with the receivers' secret (they share one), with
 * `env` added, for the enclosing describe: the receivers start before the app and stop after it (and its replica)
 * closed. With `replica`, a second app (startReplica) pushes to the same endpoints with the same environment. Both
 * objects stand for the apps once started, so specs read `const { service } = usePushingApp(...)`.
 */
export function usePushingApp(endpoints: Endpoint[], env: Record<string, string> = {}, options: { replica?: boolean } = {}): PushingApp {
  const receivers = endpoints.filter((endpoint): endpoint is EventReceiver => endpoint instanceof EventReceiver);
  const secrets = new Set(receivers.map((receiver) => receiver.secret));
  if (secrets.size !== 1) throw new Error('usePushingApp: the receivers must share one secret');
  let service: TestApp | undefined;
  let replica: NestFastifyApplication | undefined;
  beforeAll(async () => {
    const urls: string[] = [];
    for (const endpoint of endpoints) urls.push(endpoint instanceof EventReceiver ? await endpoint.start() : await endpoint());
    const pushing = { EVENT_WEBHOOK_URLS: urls.join(','), EVENT_WEBHOOK_SECRET: [...secrets][0], EVENT_WEBHOOK_ALLOW_HTTP: 'true', ...env };
    service = await startTestApp({ env: pushing });
    if (options.replica) replica = await startReplica(service, pushing);
  });
  afterAll(async () => {
    await replica?.close();
    await service?.close();
    await Promise.all(receivers.map((receiver) => receiver.stop()));
  });
  const notYet = 'usePushingApp: the apps start in beforeAll; use them inside a test or hook';
  return { service: forwardTo(() => service, notYet), replica: forwardTo(() => replica, notYet) };
}
