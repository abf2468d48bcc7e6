import { withoutSecret as verificationWithoutSecret } from './capa-outcome';
import { classifyVerificationResponse, verificationDetailsCall, verificationLinkCall } from './verification-call';

const USER = '9486244c-ff7d-4c22-9984-797179d7deaa';

describe('verificationLinkCall', () => {
  it('builds the KYC and KYB requests; partnerRedirectUri only when given', () => {
    expect(verificationLinkCall('KYC', USER, 'MX', 'myapp://done')).toMatchObject({
      operation: 'kyc-link',
      method: 'POST',
      path: `/api/partner/v2/users/${USER}/kyc/verification-link`,
      body: { country: 'MX', partnerRedirectUri: 'myapp://done' },
    });
    expect(verificationLinkCall('KYB', 'a/b', 'DE')).toMatchObject({ operation: 'kyb-link', path: '/api/partner/v2/users/a%2Fb/kyb/verification-link', body: { country: 'DE' } });
  });

  it.each<[string, unknown, string | undefined]>([
    ['data.kycLink (documented)', { success: true, data: { kycLink: 'https://a' } }, 'https://a'],
    ['data.kybLink', { data: { kybLink: 'https://b' } }, 'https://b'],
    ['data.link', { data: { link: 'https://c' } }, 'https://c'],
    ['data.url', { data: { url: 'https://d' } }, 'https://d'],
    ['data.sessionUrl', { data: { sessionUrl: 'https://e' } }, 'https://e'],
    ['the first string wins', { data: { kybLink: '', kycLink: 7, link: 'https://f', url: 'https://g' } }, 'https://f'],
    ['no data', { success: true }, undefined],
    ['a link at the top level only', { kycLink: 'https://h' }, undefined],
    ['not an object', 'https://i', undefined],
  ])('reads the link from %s', (_name, body, link) => {
    expect(verificationLinkCall('KYB', USER, 'MX').read(body)).toBe(link);
  });
});

describe('verificationDetailsCall', () => {
  it.each<['KYC' | 'KYB', unknown, string | undefined]>([
    ['KYC', { data: { aipriseSummary: { verificationResult: 'VERIFIED' }, idImages: ['...'] } }, 'VERIFIED'],
    ['KYC', { data: { verificationStatus: 'VERIFIED' } }, undefined],
    ['KYB', { data: { verificationStatus: 'REVIEW_NEEDED' } }, 'REVIEW_NEEDED'],
    ['KYB', { verificationStatus: 'REJECTED' }, 'REJECTED'],
    ['KYB', { data: { aipriseSummary: { verificationResult: 'VERIFIED' } } }, undefined],
    ['KYC', { data: { aipriseSummary: { verificationResult: 42 } } }, undefined],
  ])('%s %j -> %s', (kind, body, verdict) => {
    expect(verificationDetailsCall(kind, USER).read(body)).toBe(verdict);
  });

  it('asks for the user by query parameter', () => {
    expect(verificationDetailsCall('KYC', USER)).toMatchObject({ operation: 'kyc-details', method: 'GET', path: `/api/partner/v2/kyc/details?userId=${USER}` });
  });
});

describe('classifyVerificationResponse', () => {
  const call = verificationLinkCall('KYC', USER, 'MX');
  it.each<[number, Record<string, unknown>, unknown, object]>([
    [201, {}, { success: true, data: { kycLink: 'https://x' } }, { kind: 'answered', value: 'https://x', httpStatus: 201 }],
    [200, {}, { success: true, data: {} }, { kind: 'unreadable', httpStatus: 200 }],
    [400, {}, { success: false, error: { message: 'no template', id: 'KYC_TEMPLATE_NOT_CONFIGURED_ERROR' } }, { kind: 'rejected', errorCode: 'KYC_TEMPLATE_NOT_CONFIGURED_ERROR' }],
    [404, {}, { statusCode: 404, message: 'User not found', error: 'NOT_FOUND_ERROR' }, { kind: 'rejected', errorCode: 'NOT_FOUND_ERROR' }],
    [409, {}, { message: 'conflict' }, { kind: 'rejected', httpStatus: 409 }],
    [401, {}, { message: 'User is not associated with the partner' }, { kind: 'misconfigured', httpStatus: 401 }],
    [403, {}, { error: 'INVALID_PARTNER_FLOW' }, { kind: 'misconfigured', httpStatus: 403 }],
    [429, { 'retry-after': '7' }, {}, { kind: 'transient', retryAfterMs: 7000 }],
    [503, {}, 'Service Unavailable', { kind: 'transient', httpStatus: 503 }],
  ])('%s -> %j', (status, headers, body, outcome) => {
    expect(classifyVerificationResponse(call, status, headers, body)).toMatchObject(outcome);
  });

  it('never keeps the body of an answer it cannot read (it may hold a link or personal data)', () => {
    const outcome = classifyVerificationResponse(call, 200, {}, { data: { verificationSession: 'https://secret-link' } });
    expect(JSON.stringify(outcome)).not.toContain('secret-link');
  });
});

describe('verificationWithoutSecret', () => {
  it('redacts the partner key from error text, and leaves answers alone', () => {
    const rejected = classifyVerificationResponse(verificationLinkCall('KYC', USER, 'MX'), 400, {}, { message: 'bad key the-partner-key used' });
    expect(verificationWithoutSecret(rejected, 'the-partner-key')).toMatchObject({ errorMessage: 'bad key [REDACTED] used' });
    const answered = { kind: 'answered' as const, value: 'https://x', httpStatus: 201 };
    expect(verificationWithoutSecret(answered, 'x')).toBe(answered);
  });
});
