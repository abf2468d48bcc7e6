import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { EventReceiver } from './event-receiver';
import { forwardTo, startReplica, startTestApp, TestApp } from './test-app';

export interface PushingAppOptions {
  /** The secret the app signs with (the receivers' own). */
  secret: string;
  /** EVENT_WEBHOOK_URLS in this order: receivers are started and listed by URL; a function answers a URL as is. */
  endpoints: Array<EventReceiver | (() => Promise<string>)>;
  /** Added to the app's environment (and the replica's). */
  env?: Record<string, string>;
  /** Also start a replica (startReplica) pushing to the same endpoints with the same environment. */
  replica?: boolean;
}

export interface PushingApp {
  service: TestApp;
  /** Only with `replica: true`. */
  replica: NestFastifyApplication;
}

/**
 * A test app pushing events to the given endpoints over plain http, signed with `secret`, for the enclosing describe:
 * the receivers start before the app and stop after it (and its replica) closed. Both objects stand for the apps once
 * started, so specs read `const { service } = usePushingApp(...)`.
 */
export function usePushingApp(options: PushingAppOptions): PushingApp {
  const receivers = options.endpoints.filter((endpoint): endpoint is EventReceiver => endpoint instanceof EventReceiver);
  let service: TestApp | undefined;
  let replica: NestFastifyApplication | undefined;
  beforeAll(async () => {
    const urls: string[] = [];
    for (const endpoint of options.endpoints) urls.push(endpoint instanceof EventReceiver ? await endpoint.start() : await endpoint());
    const env = { EVENT_WEBHOOK_URLS: urls.join(','), EVENT_WEBHOOK_SECRET: options.secret, EVENT_WEBHOOK_ALLOW_HTTP: 'true', ...options.env };
    service = await startTestApp({ env });
    if (options.replica) replica = await startReplica(service, env);
  });
  afterAll(async () => {
    await replica?.close();
    await service?.close();
    await Promise.all(receivers.map((receiver) => receiver.stop()));
  });
  const notYet = 'usePushingApp: the apps start in beforeAll; use them inside a test or hook';
  return { service: forwardTo(() => service, notYet), replica: forwardTo(() => replica, notYet) };
}
