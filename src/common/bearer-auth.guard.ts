import { CanActivate, ExecutionContext, Injectable, SetMetadata, applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { AdminGate } from './admin-gate';
import { UnauthorizedError } from './api-error';

export type TokenAudience = 'inbound' | 'admin';
const AUDIENCE_KEY = 'bearer-audience';
const PUBLIC = 'public';
/** Where @nestjs/swagger's ApiSecurity keeps an operation's security requirements. */
const OPENAPI_SECURITY_KEY = 'swagger/apiSecurity';

/** Marks a controller or route as requiring a bearer token of the given audience. */
export const RequiresToken = (audience: TokenAudience) => SetMetadata(AUDIENCE_KEY, audience);

/**
 * Marks a controller or route as open without a token, on purpose: health probes, metrics, the operator page's
 * static files, receivers that authenticate by a signature of their own. Everything else needs a token.
 */
export const Public = () => applyDecorators(SetMetadata(AUDIENCE_KEY, PUBLIC), NoSecurityInOpenApi());

/**
 * `security: []` on the operations in the OpenAPI document: they take no token. @nestjs/swagger has no decorator for an
 * empty requirement list; its ApiSecurity stores requirements under this metadata key, so an empty list is written there.
 */
function NoSecurityInOpenApi(): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    Reflect.defineMetadata(OPENAPI_SECURITY_KEY, [], descriptor?.value ?? target);
  };
}

/**
 * Deny by default: a route answers 401 unless it carries a valid bearer token of its audience (`@RequiresToken`) or
 * is marked `@Public()`; a route with neither (a new controller someone forgot to mark) admits no token at all.
 * Tokens are compared as SHA-256 digests with timingSafeEqual, so neither content nor length leaks through timing.
 * Admin routes are admitted by the AdminGate (key, JWT or session; roles; CSRF): people, not one shared token.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly inboundDigests: Buffer[];
  /** The audience of each route (controller class, handler), read from its metadata once. */
  private readonly audiences = new WeakMap<object, WeakMap<object, TokenAudience | typeof PUBLIC | null>>();

  constructor(
    private readonly reflector: Reflector,
    config: AppConfig,
    private readonly adminGate: AdminGate,
  ) {
    this.inboundDigests = config.inboundApiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const audience = this.audienceOf(context);
    if (audience === PUBLIC) return true;
    if (audience === null) throw new UnauthorizedError();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (audience === 'admin') return this.adminGate.admit(request).then(() => true);
    const token = bearerToken(request);
    if (token === undefined || !matchesOneOf(this.inboundDigests, token)) throw new UnauthorizedError();
    return true;
  }

  private audienceOf(context: ExecutionContext): TokenAudience | typeof PUBLIC | null {
    const controller = context.getClass();
    const handler = context.getHandler();
    let ofController = this.audiences.get(controller);
    if (ofController === undefined) this.audiences.set(controller, (ofController = new WeakMap()));
    let audience = ofController.get(handler);
    if (audience === undefined) {
      audience = this.reflector.getAllAndOverride<TokenAudience | typeof PUBLIC | undefined>(AUDIENCE_KEY, [handler, controller]) ?? null;
      ofController.set(handler, audience);
    }
    return audience;
  }
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the request carries. */
export function bearerToken(request: FastifyRequest): string | undefined {
  return /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** Whether the token is one of the known ones (digests); compares against every one so timing reveals no match. */
export function matchesOneOf(knownDigests: readonly Buffer[], token: string): boolean {
  const presented = digest(token);
  return knownDigests.reduce((found, known) => timingSafeEqual(known, presented) || found, false);
}

export function digest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}
