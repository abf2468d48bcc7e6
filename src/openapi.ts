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
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves Swagger UI at /docs and the document at /docs-json. `pluginMetadata` is what the build generated from the
 * response classes (src/generated/openapi-metadata.ts), loaded before the document is built.
 */
export async function setupOpenApi(app: NestFastifyApplication, pluginMetadata: () => Promise<Record<string, any>>): Promise<void> {
  await SwaggerModule.loadPluginMetadata(pluginMetadata);
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
