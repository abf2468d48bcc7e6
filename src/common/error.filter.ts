import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ErrorBody } from './api-error';

/** Fastify's own errors (raised before a route runs) and what the contract calls them. */
const FASTIFY_ERRORS: Record<string, { statusCode: number; code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { statusCode: 400, code: 'MALFORMED_JSON', message: 'The body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { statusCode: 400, code: 'MALFORMED_JSON', message: 'The body is empty but declared as JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The body is larger than this route accepts (16 KiB; 64 KiB for /webhooks/capa)' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    statusCode: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Only application/json bodies are accepted',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { statusCode: 400, code: 'BAD_REQUEST', message: 'Invalid Content-Length' },
};

/** Maps everything thrown to {statusCode, code, message, details?}; logs only the unexpected, never leaks a stack. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const { body, headers } = this.toResponse(exception, request);
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    void reply.status(body.statusCode).send(body);
  }

  private toResponse(exception: unknown, request: FastifyRequest): { body: ErrorBody; headers: Record<string, string> } {
    if (exception instanceof ApiError) return { body: exception.toBody(), headers: exception.headers };

    const fastifyCode = fastifyCodeOf(exception);
    if (fastifyCode !== undefined && FASTIFY_ERRORS[fastifyCode]) {
      return { body: { ...FASTIFY_ERRORS[fastifyCode] }, headers: {} };
    }

    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      return { body: { statusCode, code: codeForStatus(statusCode), message: messageOf(exception) }, headers: {} };
    }

    const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return { body: { statusCode, code: codeForStatus(statusCode), message: HttpStatus[statusCode] ?? 'Bad request' }, headers: {} };
    }

    this.logger.error(
      { err: exception, requestId: request.id, route: request.routeOptions?.url },
      'Unhandled error while serving a request',
    );
    return {
      body: { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error' },
      headers: {},
    };
  }
}

/** Nest wraps Fastify's 4xx errors in an HttpException whose cause keeps Fastify's code. */
function fastifyCodeOf(exception: unknown): string | undefined {
  const error = exception as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = error?.code ?? error?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

function codeForStatus(statusCode: number): string {
  return HttpStatus[statusCode] ?? (statusCode >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return exception.message;
}
