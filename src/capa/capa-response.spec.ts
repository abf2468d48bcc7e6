import { withoutSecret } from './capa-outcome';
import { classifyNetworkError, classifyResponse, parseRetryAfter } from './capa-response';

describe('classifyResponse', () => {
  it('a 201 with data.userId is created (v1 shape)', () => {
    expect(classifyResponse(201, {}, { status: 'ok', data: { userId: 'u-1' } })).toEqual({ kind: 'created', userId: 'u-1', httpStatus: 201 });
  });

  it('any 2xx with data.userId is created (v2 shape)', () => {
    expect(classifyResponse(200, {}, { success: true, data: { userId: 'u-2' } })).toMatchObject({ kind: 'created', userId: 'u-2' });
  });

  it.each([
    ['no body', undefined],
    ['an empty userId', { data: { userId: '' } }],
    ['a numeric userId', { data: { userId: 7 } }],
    ['text', 'ok'],
  ])('a 2xx with %s: exists without id (a human must look)', (_name, body) => {
    expect(classifyResponse(201, {}, body)).toMatchObject({ kind: 'exists-without-id', errorCode: 'NO_USER_ID' });
  });

  it('reads the NestJS error shape', () => {
    expect(classifyResponse(400, {}, { statusCode: 400, message: 'Provided email is not valid', error: 'BAD_REQUEST' })).toEqual({
      kind: 'rejected',
      httpStatus: 400,
      errorCode: 'BAD_REQUEST',
      errorMessage: 'Provided email is not valid',
    });
  });

  it('reads the {success:false, error:{message,id}} shape', () => {
    expect(classifyResponse(400, {}, { success: false, error: { message: 'Bad identifier', id: 'INVALID_USER_INPUT_ERROR' } })).toMatchObject({
      kind: 'rejected',
      errorCode: 'INVALID_USER_INPUT_ERROR',
      errorMessage: 'Bad identifier',
    });
  });

  it('joins array messages (class-validator style) and falls back to HTTP_<status>', () => {
    expect(classifyResponse(400, {}, { message: ['a is bad', 'b is bad'] })).toMatchObject({ errorCode: 'HTTP_400', errorMessage: 'a is bad; b is bad' });
  });

  it('keeps text bodies, capped', () => {
    const outcome = classifyResponse(400, {}, 'x'.repeat(5000));
    expect(outcome).toMatchObject({ kind: 'rejected', errorCode: 'HTTP_400' });
    expect((outcome as { errorMessage: string }).errorMessage.length).toBeLessThanOrEqual(2000);
  });

  it.each([401, 403])('%i is a misconfiguration, not a rejection', (status) => {
    expect(classifyResponse(status, {}, { message: 'Invalid API Key', error: 'UNAUTHORIZED' })).toMatchObject({ kind: 'misconfigured', httpStatus: status });
  });

  it.each([404, 405])('%i on create means a wrong base URL or path: a misconfiguration, never a rejection', (status) => {
    expect(classifyResponse(status, {}, { error: 'NOT_FOUND_ERROR' })).toMatchObject({ kind: 'misconfigured', httpStatus: status });
    expect(classifyResponse(status, {}, '<html>Not Found</html>')).toMatchObject({ kind: 'misconfigured', httpStatus: status });
  });

  it.each([408, 429, 500, 502, 503, 504])('%i is transient', (status) => {
    expect(classifyResponse(status, {}, null)).toMatchObject({ kind: 'transient', httpStatus: status, errorMessage: `HTTP ${status}` });
  });

  it('takes Retry-After from 429 and 503', () => {
    expect(classifyResponse(429, { 'retry-after': '3' }, null)).toMatchObject({ kind: 'transient', retryAfterMs: 3000 });
    expect(classifyResponse(503, { 'retry-after': '1' }, null)).toMatchObject({ retryAfterMs: 1000 });
    expect(classifyResponse(500, {}, null)).not.toHaveProperty('retryAfterMs');
  });

  it('409, or a 400 that says "already exists", means the user exists without an id', () => {
    expect(classifyResponse(409, {}, { message: 'Conflict' })).toMatchObject({ kind: 'exists-without-id', httpStatus: 409 });
    expect(classifyResponse(400, {}, { success: false, error: { message: 'User already exists', id: '' } })).toMatchObject({
      kind: 'exists-without-id',
      errorCode: 'HTTP_400',
    });
  });

  it('other 4xx are permanent rejections', () => {
    expect(classifyResponse(400, {}, { error: 'INVALID_USER_INPUT_ERROR' })).toMatchObject({ kind: 'rejected', errorCode: 'INVALID_USER_INPUT_ERROR' });
    expect(classifyResponse(422, {}, {})).toMatchObject({ kind: 'rejected', errorCode: 'HTTP_422' });
  });

  it('unexpected 1xx/3xx are transient', () => {
    expect(classifyResponse(302, {}, null)).toMatchObject({ kind: 'transient', errorCode: 'UNEXPECTED_STATUS' });
  });
});

describe('withoutSecret', () => {
  const key = 'partner-key-9f8e7d';

  it('replaces every occurrence of the key in the error text', () => {
    const outcome = classifyResponse(401, {}, { message: `Invalid API Key ${key} (${key})`, error: 'UNAUTHORIZED' });
    expect(withoutSecret(outcome, key)).toMatchObject({ kind: 'misconfigured', errorMessage: 'Invalid API Key [REDACTED] ([REDACTED])' });
  });

  it('leaves outcomes without the key, successes and an unset key as they are', () => {
    const rejected = classifyResponse(400, {}, { message: 'Provided email is not valid' });
    expect(withoutSecret(rejected, key)).toBe(rejected);
    const created = classifyResponse(201, {}, { data: { userId: key } });
    expect(withoutSecret(created, key)).toBe(created);
    expect(withoutSecret(rejected, undefined)).toBe(rejected);
  });
});

describe('classifyNetworkError', () => {
  it.each([
    [{ code: 'ECONNABORTED', message: 'timeout of 5000ms exceeded' }, 'TIMEOUT'],
    [{ code: 'ERR_CANCELED', message: 'canceled' }, 'TIMEOUT'],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'ECONNRESET'],
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'ECONNREFUSED'],
    [{ message: 'weird' }, 'NETWORK_ERROR'],
  ])('%o -> transient %s', (fields, code) => {
    const error = Object.assign(new Error(fields.message), fields);
    expect(classifyNetworkError(error)).toEqual({ kind: 'transient', httpStatus: null, errorCode: code, errorMessage: fields.message });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-27T10:00:00Z');
  it('reads delay-seconds', () => expect(parseRetryAfter('120', now)).toBe(120_000));
  it('reads an HTTP-date', () => expect(parseRetryAfter('Fri, 27 Nov 2026 10:00:30 GMT', now)).toBe(30_000));
  it('a date in the past means now', () => expect(parseRetryAfter('Fri, 27 Nov 2026 09:00:00 GMT', now)).toBe(0));
  it.each([undefined, '', 'soon', '-5', '1.5'])('%p is ignored', (value) => expect(parseRetryAfter(value, now)).toBeUndefined());
  it('takes the first of repeated headers', () => expect(parseRetryAfter(['2', '9'], now)).toBe(2000));
});
