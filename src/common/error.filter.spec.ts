import { ArgumentsHost, BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ApiError, ValidationFailedError } from './api-error';
import { ErrorFilter } from './error.filter';

function capture(exception: unknown) {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const reply = {
    header: (name: string, value: string) => (sent.headers[name] = value),
    status(code: number) {
      sent.status = code;
      return this;
    },
    send: (body: unknown) => (sent.body = body),
  };
  const host = {
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({ id: 'req-1', routeOptions: { url: '/v1/users' } }) }),
  } as unknown as ArgumentsHost;
  const filter = new ErrorFilter();
  (filter as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
  filter.catch(exception, host);
  return sent;
}

describe('ErrorFilter', () => {
  it('answers domain errors in the one shape, with their headers', () => {
    const sent = capture(new ApiError(401, 'UNAUTHORIZED', 'nope', undefined, { 'www-authenticate': 'Bearer' }));
    expect(sent).toEqual({ status: 401, body: { statusCode: 401, code: 'UNAUTHORIZED', message: 'nope' }, headers: { 'www-authenticate': 'Bearer' } });
    expect(capture(new ValidationFailedError([{ field: 'a', message: 'bad' }])).body).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'The request is invalid',
      details: [{ field: 'a', message: 'bad' }],
    });
  });

  it("maps Fastify's parser errors (wrapped by Nest) to the contract's codes", () => {
    const wrapped = (code: string, status: number) => new HttpException('fastify says', status, { cause: Object.assign(new Error('x'), { code }) });
    expect(capture(wrapped('FST_ERR_CTP_INVALID_JSON_BODY', 400)).body).toMatchObject({ statusCode: 400, code: 'MALFORMED_JSON' });
    expect(capture(wrapped('FST_ERR_CTP_BODY_TOO_LARGE', 413)).body).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(capture(wrapped('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).body).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('gives Nest HTTP exceptions a code from their status', () => {
    expect(capture(new NotFoundException('Cannot GET /x')).body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: 'Cannot GET /x' });
    expect(capture(new BadRequestException(['a', 'b'])).body).toEqual({ statusCode: 400, code: 'BAD_REQUEST', message: 'a; b' });
  });

  it('never leaks an unexpected error: 500 with a generic message, no stack, no internal text', () => {
    const error = new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
    const sent = capture(error);
    expect(sent.status).toBe(500);
    expect(sent.body).toEqual({ statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(JSON.stringify(sent.body)).not.toMatch(/hunter2|ECONNREFUSED|at /);
  });
});
