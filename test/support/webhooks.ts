import { signCapaPayload } from '../../src/capa-webhooks/webhook-signature';
import { TestApp, TestResponse, usersPath } from './test-app';

export const WEBHOOK_SECRET = 'capa-webhook-secret-current';
export const OLD_WEBHOOK_SECRET = 'capa-webhook-secret-previous';

/** The app's env for Capa webhooks: the current and the previous secret, as during a rotation. */
export const WEBHOOK_ENV = { CAPA_WEBHOOK_SECRETS: `${WEBHOOK_SECRET}, ${OLD_WEBHOOK_SECRET}` };

/** POSTs a body to /webhooks/capa as Capa would: signed over the exact bytes unless `signature` says otherwise. */
export async function deliver(
  service: TestApp,
  body: unknown,
  options: { signature?: string | null; secret?: string; contentType?: string } = {},
): Promise<TestResponse> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const signature = options.signature === undefined ? signCapaPayload(raw, options.secret ?? WEBHOOK_SECRET) : options.signature;
  const headers: Record<string, string> = { authorization: '', 'content-type': options.contentType ?? 'application/json' };
  if (signature !== null) headers['capa-signature'] = signature;
  return service.call('POST', '/webhooks/capa', raw, headers);
}

/** Registers a user (CREATED at the simulator) and answers the mapping. */
export async function register(service: TestApp, externalUserId: string, userType?: 'INDIVIDUAL' | 'BUSINESS'): Promise<TestResponse> {
  const response = await service.call('POST', '/v1/users', { externalUserId, ...(userType ? { userType } : {}) });
  if (response.status !== 201) throw new Error(`register ${externalUserId}: ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

export async function kycOf(service: TestApp, externalUserId: string): Promise<{ status: string; kind: string; updatedAt: string | null; linkIssuedAt: string | null }> {
  return (await service.call('GET', usersPath(externalUserId))).body.kyc;
}

export async function inboxRows(service: TestApp, externalUserId: string): Promise<Array<{ outcome: string; event: string; kyc_status: string | null }>> {
  return (
    await service.query(`SELECT outcome, event, kyc_status::text FROM capa_webhook_inbox WHERE external_user_id = $1 ORDER BY id`, [externalUserId])
  ).rows;
}
