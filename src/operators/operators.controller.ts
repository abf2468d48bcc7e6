import { Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiExcludeEndpoint, ApiOperation, ApiResponse } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminRoutes, ApiErrors } from '../common/api-docs';
import { ForbiddenError } from '../common/api-error';
import { Public } from '../common/bearer-auth.guard';
import { mayCall, principalOf } from '../common/principal';
import { IdentityProvider } from './identity-provider';
import { LOGIN_TTL_S, resumeLogin, startLogin } from './login-transaction';
import { OperatorSessions, csrfTokenOf } from './operator-sessions';
import { OperatorView } from './operator.types';
import { LoginFailedError } from './operators.errors';
import { LOGIN_COOKIE, LOGIN_PATH, SESSION_COOKIE, SESSION_PATH, clearCookie, cookieOf, setCookie } from './session-cookies';
import { SignIn } from './sign-in';

/** Operators sign in at the identity provider (OpenID Connect), see who they are, and sign out. */
@AdminRoutes()
export class OperatorsController {
  constructor(
    private readonly idp: IdentityProvider,
    private readonly signIn: SignIn,
    private readonly sessions: OperatorSessions,
  ) {}

  @Get('login')
  @Public()
  @RouteConfig({ cacheControl: 'no-store' })
  @ApiOperation({ summary: "Start signing in: 302 to the identity provider's authorization endpoint (PKCE S256, state, nonce)" })
  @ApiResponse({ status: 302, description: 'To the identity provider' })
  @ApiErrors({ 404: 'NOT_FOUND: sign-in is not configured', 503: 'OIDC_UNAVAILABLE: the identity provider cannot be reached' })
  async login(@Res() reply: FastifyReply): Promise<void> {
    const settings = this.idp.required();
    const { cookie, secrets } = startLogin();
    const location = await this.signIn.authorizationUrl(secrets);
    void reply.header('set-cookie', setCookie(settings, LOGIN_COOKIE, cookie, LOGIN_PATH, LOGIN_TTL_S)).code(302).header('location', location).send();
  }

  @Get('callback')
  @Public()
  @RouteConfig({ cacheControl: 'no-store', unloggedQuery: true })
  @ApiExcludeEndpoint()
  async callback(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const settings = this.idp.required();
    // The login is over whatever happens: its cookie goes.
    void reply.header('set-cookie', clearCookie(settings, LOGIN_COOKIE, LOGIN_PATH));
    const secrets = resumeLogin(cookieOf(request, LOGIN_COOKIE));
    if (secrets === null) throw new LoginFailedError('No sign-in was started in this browser in the last 10 minutes; start again');
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const principal = await this.signIn.complete(query, secrets);
    if (!mayCall(principal, 'GET')) {
      await this.sessions.denied(principal, request.id);
      throw new ForbiddenError('Your account has no onboarding role (onboarding:viewer or onboarding:operator)');
    }
    const sessionId = await this.sessions.start(principal, request.id);
    void reply
      .header('set-cookie', [clearCookie(settings, LOGIN_COOKIE, LOGIN_PATH), setCookie(settings, SESSION_COOKIE, sessionId, SESSION_PATH, settings.sessionTtlS)])
      .code(303)
      .header('location', '/admin/ui')
      .send();
  }

  @Get('me')
  @RouteConfig({ cacheControl: 'no-store' })
  @ApiOperation({ summary: 'Who this request is: sub, name, email, roles, how it signed in, and (sessions only) the CSRF token' })
  @ApiResponse({ status: 200, type: OperatorView })
  me(@Req() request: FastifyRequest): OperatorView {
    const principal = principalOf(request)!;
    const sessionId = principal.via === 'oidc' ? cookieOf(request, SESSION_COOKIE) : undefined;
    return {
      sub: principal.sub,
      name: principal.name,
      email: principal.email,
      roles: [...principal.roles],
      via: principal.via,
      ...(sessionId !== undefined ? { csrfToken: csrfTokenOf(sessionId) } : {}),
    };
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: the session is deleted on the server and its cookie cleared (it then gets 401 everywhere)' })
  @ApiResponse({ status: 204 })
  @ApiErrors({ 403: 'CSRF_FAILED: no or a wrong X-CSRF-Token, or another Origin' })
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const principal = principalOf(request)!;
    const sessionId = cookieOf(request, SESSION_COOKIE);
    // A bearer credential has no session to end: nothing to do.
    if (principal.via === 'oidc' && sessionId !== undefined) {
      await this.sessions.end(sessionId, principal, request.id);
      void reply.header('set-cookie', clearCookie(this.idp.required(), SESSION_COOKIE, SESSION_PATH));
    }
    void reply.code(204).send();
  }
}
