import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/**
 * The OpenAPI 3 document, generated from the controllers, the request DTOs and the response classes (whose schemas
 * come from their TypeScript types and doc comments: @nestjs/swagger's plugin, run by `npm run build`).
 */
export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('capa-onboarding')
    .setDescription(
      "Registers a partner's users at Capa (POST /api/partner/v1/user) idempotently and keeps externalUserId -> userId. " +
        'Every error answers {statusCode, code, message, details?}.',
    )
    .setVersion('1')
    // Relative: the document is right whatever host, port or ingress path serves it.
    .addServer('/', 'This service')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An INBOUND_API_KEYS token (/v1) or ADMIN_API_KEY (/admin)' })
    .build();
  return withAuditRefusals(SwaggerModule.createDocument(app, config));
}

const WRITES = ['post', 'put', 'patch', 'delete'] as const;

/**
 * Every admin write is audited before its answer (src/audit): when the row cannot be written the action is not done
 * and the answer is 503 AUDIT_UNAVAILABLE. Documented on each write under /admin, next to its other errors.
 */
function withAuditRefusals(document: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/admin/')) continue;
    for (const method of WRITES) {
      const operation = item[method];
      if (operation === undefined || operation.security === undefined) continue;
      operation.responses['503'] = {
        description: 'AUDIT_UNAVAILABLE: the audit row could not be written; nothing was done',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBodyDoc' } } },
      };
    }
  }
  return document;
}

/**
 * Serves Swagger UI at /docs and the document at /docs-json. `pluginMetadata` is what the build generated from the
 * response classes (src/generated/openapi-metadata.ts), loaded before the document is built.
 */
export async function setupOpenApi(app: NestFastifyApplication, pluginMetadata: () => Promise<Record<string, any>>): Promise<void> {
  await SwaggerModule.loadPluginMetadata(pluginMetadata);
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
