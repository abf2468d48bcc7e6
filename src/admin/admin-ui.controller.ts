import { Controller, Get, Logger, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../common/api-error';
import { Public } from '../common/bearer-auth.guard';
import { AppConfig } from '../config/app-config';

/** Next to this file both in src/ (tests) and in dist/ (the build copies src/admin/ui to dist/admin/ui). */
const UI_DIRECTORY = join(__dirname, 'ui');

/** The only files served, so no request path ever reaches the file system. */
const UI_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'chart.js': 'text/javascript; charset=utf-8',
  'imports.js': 'text/javascript; charset=utf-8',
  'events.js': 'text/javascript; charset=utf-8',
  'verification.js': 'text/javascript; charset=utf-8',
  'operator.js': 'text/javascript; charset=utf-8',
  'audit.js': 'text/javascript; charset=utf-8',
  'timeline.js': 'text/javascript; charset=utf-8',
  'erasure.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * The operator page: static files, no token needed to load them. The page itself talks only to the admin API,
 * as the operator who signed in (session cookie) or with the token they type in. Helmet's CSP (script-src 'self') applies, so the page has no inline script.
 */
@ApiExcludeController()
@Public()
@Controller('admin/ui')
export class AdminUiController {
  private readonly logger = new Logger(AdminUiController.name);
  private readonly cache = new Map<string, Buffer>();

  constructor(private readonly config: AppConfig) {}

  /** What the signed-out page offers: operator sign-in at the identity provider, and the token form (ADMIN_API_KEY). */
  @Get('sign-in.json')
  signInOptions(): { oidc: boolean; apiKey: boolean } {
    return { oidc: this.config.adminOidc !== undefined, apiKey: this.config.adminApiKey !== undefined };
  }

  @Get()
  page(@Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, 'index.html');
  }

  @Get(':file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    return this.send(reply, file);
  }

  private async send(reply: FastifyReply, file: string): Promise<void> {
    const contentType = Object.hasOwn(UI_FILES, file) ? UI_FILES[file] : undefined;
    if (contentType === undefined) throw new NotFoundError();
    await reply.header('content-type', contentType).header('cache-control', 'no-cache').send(await this.read(file));
  }

  private async read(file: string): Promise<Buffer> {
    const cached = this.cache.get(file);
    if (cached !== undefined) return cached;
    try {
      const content = await readFile(join(UI_DIRECTORY, file));
      this.cache.set(file, content);
      return content;
    } catch (error) {
      this.logger.error({ err: error, directory: UI_DIRECTORY }, 'Operator page file missing: was src/admin/ui copied into the build?');
      throw new NotFoundError('The operator page is not part of this build');
    }
  }
}
