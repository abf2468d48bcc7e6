import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CapaSimulator } from './capa-simulator';

const API_KEY = 'test-partner-key';
const PATH = '/api/partner/v2/webhook-notifications';

let simulator: CapaSimulator;
let baseUrl: string;
let receiver: Server;
let receiverUrl: string;
let receiverStatus: number;
let received: string[];

beforeEach(async () => {
  received = [];
  receiverStatus = 500;
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString());
      res.writeHead(receiverStatus).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  simulator = new CapaSimulator({ apiKeys: [API_KEY], webhooks: { url: receiverUrl, secret: 's', retryScale: 0.0001 } });
  baseUrl = await simulator.start();
});

afterEach(async () => {
  await simulator.stop();
  await new Promise((resolve) => receiver.close(resolve));
});

async function call(method: string, path: string, key = API_KEY): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}${path}`, { method, headers: { 'partner-api-key': key } });
  return { status: response.status, body: await response.json() };
}

async function failedNotification(externalUserId: string, event = 'VERIFIED_USER'): Promise<string> {
  const notification = simulator.sendKycEvent(externalUserId, event);
  await simulator.webhooks.settled();
  return notification.id;
}

describe("the simulator's webhook notification API", () => {
  it('lists notifications newest first, by status, page by page, with the documented fields', async () => {
    const first = await failedNotification('a', 'CREATED_KYC');
    const second = await failedNotification('a', 'REJECTED_KYC');
    receiverStatus = 200;
    await failedNotification('b');
    const failed = await call('GET', `${PATH}?status=FAILED&limit=1`);
    expect(failed.status).toBe(200);
    expect(failed.body.data).toEqual({
      count: 1,
      total: 2,
      data: [{ id: second, status: 'FAILED', eventType: 'REJECTED_KYC', retryAttempts: 6, manualRetryCount: 0, createdAt: expect.any(String), updatedAt: expect.any(String) }],
    });
    expect((await call('GET', `${PATH}?status=FAILED&skip=1&limit=1`)).body.data.data.map((item: { id: string }) => item.id)).toEqual([first]);
    expect((await call('GET', PATH)).body.data.total).toBe(3);
    expect((await call('GET', `${PATH}?status=SENT`)).body.data.total).toBe(1);
    expect((await call('GET', `${PATH}?limit=101`)).status).toBe(400);
    expect((await call('GET', PATH, 'wrong')).status).toBe(401);
  });

  it('a notification made with no webhook URL is NOT_SENT and never delivered', async () => {
    simulator.configureWebhooks({ url: null });
    const notification = simulator.sendKycEvent('n', 'VERIFIED_USER');
    await simulator.webhooks.settled();
    expect(simulator.webhooks.find(notification.id)?.status).toBe('NOT_SENT');
    expect((await call('GET', `${PATH}?status=NOT_SENT`)).body.data.total).toBe(1);
    expect((await call('POST', `${PATH}/${notification.id}/retry`)).status).toBe(409);
  });

  it('the detail carries the payload; an unknown id is 404', async () => {
    const id = await failedNotification('d');
    const detail = await call('GET', `${PATH}/${id}`);
    expect(detail.body.data).toMatchObject({ id, status: 'FAILED', payload: { type: 'KYC', event: 'VERIFIED_USER', externalUserId: 'd' }, lastManualRetryAt: null });
    expect((await call('GET', `${PATH}/nope`)).status).toBe(404);
  });

  it('a retry redelivers the same payload with a fresh cycle; 409 unless FAILED and after 3 retries', async () => {
    const id = await failedNotification('r');
    received = [];
    for (let retry = 1; retry <= 3; retry++) {
      const answer = await call('POST', `${PATH}/${id}/retry`);
      expect(answer.status).toBe(201);
      expect(answer.body.data).toMatchObject({ status: 'PENDING', manualRetryCount: retry });
      expect((await call('POST', `${PATH}/${id}/retry`)).status).toBe(409);
      await simulator.webhooks.settled();
    }
    expect(received).toHaveLength(18);
    expect(new Set(received)).toEqual(new Set(['{"type":"KYC","event":"VERIFIED_USER","externalUserId":"r"}']));
    expect((await call('POST', `${PATH}/${id}/retry`)).body).toMatchObject({ error: 'CONFLICT' });
    receiverStatus = 200;
    const sent = await failedNotification('s');
    expect((await call('POST', `${PATH}/${sent}/retry`)).status).toBe(409);
    expect((await call('POST', `${PATH}/unknown/retry`)).status).toBe(404);
  });

  it('answers 429 past 10 retry calls a minute, whatever their answers', async () => {
    const ids = [];
    for (let index = 0; index < 11; index++) ids.push(await failedNotification(`q${index}`));
    const statuses = [];
    for (const id of ids) statuses.push((await call('POST', `${PATH}/${id}/retry`)).status);
    expect(statuses).toEqual([...Array(10).fill(201), 429]);
    expect(simulator.notifications.retryCalls().map((retry) => retry.status)).toEqual(statuses);
  });

  it('answers 404 everywhere when the notification API is switched off', async () => {
    const id = await failedNotification('off');
    simulator.configureWebhooks({ notificationApi: false });
    expect((await call('GET', `${PATH}?status=FAILED`)).status).toBe(404);
    expect((await call('POST', `${PATH}/${id}/retry`)).status).toBe(404);
  });
});
