import { Logger } from '@nestjs/common';
import { EventDeliverer } from '../src/events/event-deliverer';
import { OutboxWriter } from '../src/events/outbox-writer';
import { PrismaService } from '../src/persistence/prisma.service';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { startTestApp, TestApp, uniqueId } from './support/test-app';

const SECRET = newWebhookSecret();
const PUSH_ENV = { EVENT_WEBHOOK_SECRET: SECRET, EVENT_WEBHOOK_ALLOW_HTTP: 'true', EVENT_RETRY_BASE_MS: '10', EVENT_RETRY_MAX_MS: '20' };
const writer = new OutboxWriter();

async function appendEvent(service: TestApp, prefix: string): Promise<string> {
  const externalUserId = uniqueId(prefix);
  await writer.append(service.app.get(PrismaService).pool, [{ type: 'capa.transaction', externalUserId, userId: null, data: {} }]);
  return (await service.query<{ id: string }>('SELECT id FROM outbox_events WHERE external_user_id = $1', [externalUserId])).rows[0].id;
}

describe("an endpoint's stored position beyond the newest transaction (a restore into a new cluster)", () => {
  const receiver = new EventReceiver(SECRET);
  let service: TestApp;
  let errors: jest.SpyInstance;

  beforeAll(async () => {
    errors = jest.spyOn(Logger.prototype, 'error');
    service = await startTestApp({ env: { ...PUSH_ENV, EVENT_DELIVERY_INTERVAL_MS: '20', EVENT_WEBHOOK_URLS: await receiver.start() } });
  });

  afterAll(async () => {
    await service?.close();
    await receiver.stop();
    errors.mockRestore();
  });

  const faultsCounted = async (): Promise<number> => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const line = metrics.split('\n').find((text) => text.startsWith(`event_endpoint_cursor_faults_total{endpoint="${receiver.url}"} `));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  };
  const faultLogs = () => errors.mock.calls.filter((call) => String(call[1]).includes('cursor is beyond the newest transaction'));

  it('is counted on /metrics on every pass and logged once (not per pass), never silently nothing pushed; an operator reset resumes', async () => {
    const before = await appendEvent(service, 'before-restore');
    expect(await eventually(() => receiver.attemptsById.has(before))).toBe(true);

    await service.query(
      `UPDATE event_endpoints SET cursor_xid = ((pg_snapshot_xmax(pg_current_snapshot())::text)::numeric + 1000000)::text::xid8, cursor_position = 3 WHERE url = $1`,
      [receiver.url],
    );
    const stranded = await appendEvent(service, 'after-restore');
    expect(await eventually(async () => (await faultsCounted()) >= 5, 15_000)).toBe(true);
    expect(receiver.attemptsById.has(stranded)).toBe(false);
    expect(faultLogs()).toHaveLength(1);
    expect(faultLogs()[0][0]).toEqual({ endpoint: receiver.url, passesSinceLastLog: 0 });
    // Still faulty: counted further, not logged again.
    const counted = await faultsCounted();
    expect(await eventually(async () => (await faultsCounted()) > counted + 3, 15_000)).toBe(true);
    expect(faultLogs()).toHaveLength(1);

    // The README's repair: the endpoint starts again at the feed's current end.
    await service.query('UPDATE event_endpoints SET cursor_xid = capa_event_horizon(), cursor_position = 0 WHERE url = $1', [receiver.url]);
    const resumed = await appendEvent(service, 'after-reset');
    expect(await eventually(() => receiver.attemptsById.has(resumed))).toBe(true);
    const settled = await faultsCounted();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await faultsCounted()).toBe(settled);
  }, 60_000);
});
