import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CapaSimulator } from './capa-simulator';

const API_KEY = 'test-partner-key';
const SECRET = 'sim-secret';

let simulator: CapaSimulator;
let baseUrl: string;
let receiver: Server;
let received: Array<{ body: string; signature: string | undefined }>;
let receiverStatus: number;

beforeEach(async () => {
  received = [];
  receiverStatus = 200;
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString(), signature: req.headers['capa-signature'] as string | undefined });
      res.writeHead(receiverStatus).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  simulator = new CapaSimulator({
    apiKeys: [API_KEY],
    webhooks: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, secret: SECRET, retryScale: 0.001 },
  });
  baseUrl = await simulator.start();
});

afterEach(async () => {
  await simulator.stop();
  await new Promise((resolve) => receiver.close(resolve));
});

async function createUser(externalUserId: string, userType?: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/partner/v1/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'partner-api-key': API_KEY },
    body: JSON.stringify({ externalUserId, ...(userType ? { userType } : {}) }),
  });
  return ((await response.json()) as { data: { userId: string } }).data.userId;
}

const link = (userId: string, kind: 'kyc' | 'kyb', body: unknown, key = API_KEY) =>
  fetch(`${baseUrl}/api/partner/v2/users/${userId}/${kind}/verification-link`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'partner-api-key': key },
    body: JSON.stringify(body),
  });

describe('verification links', () => {
  it('issues a KYC link for an individual and a KYB link for a business', async () => {
    const person = await createUser('person');
    const business = await createUser('business', 'BUSINESS');
    const kyc = await link(person, 'kyc', { country: 'MX', partnerRedirectUri: 'myapp://done' });
    const kyb = await link(business, 'kyb', { country: 'DE' });
    expect(kyc.status).toBe(201);
    expect(await kyc.json()).toEqual({ success: true, data: { kycLink: expect.stringMatching(/^https:\/\//) } });
    expect(await kyb.json()).toEqual({ success: true, data: { sessionUrl: expect.stringMatching(/^https:\/\//) } });
  });

  it.each<[string, 'kyc' | 'kyb', unknown, number, string]>([
    ['KYB for an individual', 'kyb', { country: 'MX' }, 400, 'INVALID_VERIFICATION_TYPE_FOR_USER'],
    ['an unlisted country', 'kyc', { country: 'BR' }, 400, 'INVALID_USER_INPUT_ERROR'],
    ['no country', 'kyc', {}, 400, 'INVALID_USER_INPUT_ERROR'],
    ['a country without a template', 'kyc', { country: 'US' }, 400, 'KYC_TEMPLATE_NOT_CONFIGURED_ERROR'],
  ])('refuses %s', async (_name, kind, body, status, code) => {
    simulator.configureWebhooks({ templateMissing: ['US'] });
    const person = await createUser('person');
    const response = await link(person, kind, body);
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toBe(code);
  });

  it('refuses an unknown user (404) and a wrong key (401)', async () => {
    expect((await link('00000000-0000-4000-8000-000000000000', 'kyc', { country: 'MX' })).status).toBe(404);
    expect((await link(await createUser('p'), 'kyc', { country: 'MX' }, 'wrong')).status).toBe(401);
  });
});

describe('webhooks', () => {
  it('signs the body with the secret (hex HMAC-SHA256) and records the verdict for the details endpoint', async () => {
    const userId = await createUser('verified-user');
    const notification = simulator.sendKycEvent('verified-user', 'VERIFIED_USER');
    await simulator.webhooks.settled();
    expect(received).toEqual([{ body: '{"type":"KYC","event":"VERIFIED_USER","externalUserId":"verified-user"}', signature: createHmac('sha256', SECRET).update(received[0].body).digest('hex') }]);
    expect(simulator.webhookNotifications()).toEqual([{ ...notification, status: 'SENT', attempts: [expect.objectContaining({ httpStatus: 200 })] }]);
    const details = await fetch(`${baseUrl}/api/partner/v2/kyc/details?userId=${userId}`, { headers: { 'partner-api-key': API_KEY } });
    expect(((await details.json()) as { data: { aipriseSummary: { verificationResult: string } } }).data.aipriseSummary.verificationResult).toBe('VERIFIED');
  });

  it("'pretty' sends indented JSON signed as JSON.stringify(payload), as Capa's sample does", async () => {
    simulator.sendKycEvent('u', 'CREATED_KYC', 'pretty');
    await simulator.webhooks.settled();
    const compact = JSON.stringify(JSON.parse(received[0].body));
    expect(received[0].body).not.toBe(compact);
    expect(received[0].signature).toBe(createHmac('sha256', SECRET).update(compact).digest('hex'));
  });

  it('retries a refused delivery immediately, then on the (scaled) 1, 5, 10, 15 minute schedule, then FAILED', async () => {
    receiverStatus = 500;
    simulator.sendKycEvent('u', 'REJECTED_KYC');
    await simulator.webhooks.settled();
    const [notification] = simulator.webhookNotifications();
    expect(notification.status).toBe('FAILED');
    expect(received).toHaveLength(6);
  });

  it('is driven by the control API', async () => {
    const kyc = await fetch(`${baseUrl}/__sim/kyc/${encodeURIComponent('a/b')}`, { method: 'POST', body: JSON.stringify({ event: 'VERIFIED_USER' }) });
    const transaction = await fetch(`${baseUrl}/__sim/transactions/a`, { method: 'POST', body: JSON.stringify({ event: 'CREATED_ON_RAMP', transactionId: 't-1' }) });
    expect([kyc.status, transaction.status]).toEqual([202, 202]);
    await simulator.webhooks.settled();
    expect(received.map((delivery) => JSON.parse(delivery.body))).toEqual([
      { type: 'KYC', event: 'VERIFIED_USER', externalUserId: 'a/b' },
      { type: 'TRANSACTION', event: 'CREATED_ON_RAMP', transactionId: 't-1', externalUserId: 'a' },
    ]);
    const list = (await (await fetch(`${baseUrl}/__sim/webhooks`)).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(2);
    expect((await fetch(`${baseUrl}/__sim/kyc/x`, { method: 'POST', body: '{}' })).status).toBe(400);
  });
});
