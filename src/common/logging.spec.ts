import { AxiosError, AxiosHeaders } from 'axios';
import type { FastifyReply, FastifyRequest } from 'fastify';
import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import { logRequest, loggerParams, serializeError } from './logging';

describe('serializeError', () => {
  it('keeps type, message, code and stack, and nothing an error carries besides', () => {
    const headers = new AxiosHeaders({ 'partner-api-key': 'capa-secret-key', authorization: 'Bearer inbound-secret' });
    const error = new AxiosError('timeout of 5000ms exceeded', 'ECONNABORTED', { headers, url: 'https://capa.example/api' } as never);
    const logged = serializeError(error);
    expect(logged).toEqual({ type: 'AxiosError', message: 'timeout of 5000ms exceeded', code: 'ECONNABORTED', stack: expect.any(String) });
    expect(JSON.stringify(logged)).not.toMatch(/capa-secret-key|inbound-secret/);
  });

  it('handles things thrown that are not errors', () => {
    expect(serializeError('plain text')).toEqual({ message: 'plain text' });
    expect(serializeError(Object.assign(new Error('x'), { code: 42 }))).toMatchObject({ type: 'Error', code: 42 });
  });
});

describe('logRequest', () => {
  const lines: Array<Record<string, unknown>> = [];
  const params = loggerParams({ logLevel: 'info' } as AppConfig).pinoHttp as { level: string; serializers: pino.LoggerOptions["serializers"] };
  const logger = pino({ level: params.level, serializers: params.serializers }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const requestFor = (url: string) =>
    ({ id: 'req-1', method: 'GET', url, headers: { authorization: 'Bearer inbound-secret' }, raw: {} }) as unknown as FastifyRequest;
  const replyWith = (statusCode: number) => ({ statusCode, elapsedTime: 1.7 }) as unknown as FastifyReply;

  beforeEach(() => lines.splice(0));

  it('writes one line per request with id, method, url, status and time, at a level by status', () => {
    logRequest(logger, requestFor('/v1/users/a'), replyWith(200));
    logRequest(logger, requestFor('/v1/users/b'), replyWith(404));
    logRequest(logger, requestFor('/v1/users/c'), replyWith(503));
    expect(lines.map((line) => [line.level, line.msg, line.req, line.res, line.responseTime])).toEqual([
      [30, 'request completed', { id: 'req-1', method: 'GET', url: '/v1/users/a' }, { statusCode: 200 }, 2],
      [40, 'request completed', { id: 'req-1', method: 'GET', url: '/v1/users/b' }, { statusCode: 404 }, 2],
      [50, 'request errored', { id: 'req-1', method: 'GET', url: '/v1/users/c' }, { statusCode: 503 }, 2],
    ]);
    expect(JSON.stringify(lines)).not.toContain('inbound-secret');
  });

  it('skips the probes and levels that are off', () => {
    logRequest(logger, requestFor('/health/live'), replyWith(200));
    logRequest(logger, requestFor('/health/ready'), replyWith(503));
    logRequest(pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) }), requestFor('/v1/users/a'), replyWith(200));
    expect(lines).toEqual([]);
  });

  it("skips the statuses a route's config names (unsigned webhooks), and logs its other answers", () => {
    const webhook = (status: number) => {
      const request = { ...requestFor('/webhooks/capa'), routeOptions: { config: { unloggedStatuses: [401, 413] } } } as unknown as FastifyRequest;
      logRequest(logger, request, replyWith(status));
    };
    webhook(401);
    webhook(413);
    webhook(200);
    expect(lines.map((line) => line.res)).toEqual([{ statusCode: 200 }]);
  });

  it('keeps whitelisted fields only when something logs a whole request or response', () => {
    logger.info({ req: { id: 'r', method: 'POST', url: '/v1/users', headers: { authorization: 'Bearer x' }, body: { email: 'a@b.c' } }, res: { statusCode: 201, headers: {} } });
    expect(lines[0]).toMatchObject({ req: { id: 'r', method: 'POST', url: '/v1/users' }, res: { statusCode: 201 } });
    expect(Object.keys(lines[0].req as object)).toEqual(['id', 'method', 'url']);
    expect(Object.keys(lines[0].res as object)).toEqual(['statusCode']);
  });
});
