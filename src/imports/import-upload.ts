import type { FastifyInstance } from 'fastify';
import type { ImportFormat } from './import-parser';

export const IMPORTS_ROUTE = '/v1/imports';
const FORMATS: Record<string, ImportFormat> = { 'application/x-ndjson': 'ndjson', 'text/csv': 'csv' };

/** The format an upload's Content-Type names (parameters such as charset ignored), if it is one imports take. */
export function formatOf(contentType: string | undefined): ImportFormat | undefined {
  const mediaType = contentType?.split(';', 1)[0].trim().toLowerCase();
  return mediaType === undefined ? undefined : FORMATS[mediaType];
}

/**
 * NDJSON and CSV bodies reach `POST /v1/imports` as the raw request stream (the route reads and limits them itself,
 * not through the global 16 KiB body limit); on every other route these types stay unsupported (415).
 */
export function acceptImportUploads(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(Object.keys(FORMATS), (request, payload, done) => {
    if (request.method === 'POST' && request.routeOptions.url === IMPORTS_ROUTE) return done(null, payload);
    done(Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), undefined);
  });
}
