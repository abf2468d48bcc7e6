#!/usr/bin/env node
// Writes src/generated/openapi-metadata.ts: what @nestjs/swagger's CLI plugin reads from the response classes (their
// property types, optional and nullable fields, literal-union enums, and doc comments as descriptions), for
// SwaggerModule.loadPluginMetadata. The build is plain tsc, not `nest build`, so the plugin runs here, before tsc.
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { PluginMetadataGenerator } = require('@nestjs/cli/lib/compiler/plugins/plugin-metadata-generator');
const { ReadonlyVisitor } = require('@nestjs/swagger/plugin');

const SOURCE = join(__dirname, '..', 'src');
const OUTPUT_DIR = join(SOURCE, 'generated');
const FILENAME = 'openapi-metadata.ts';

/**
 * The files that hold the API's response classes. Request bodies and query parameters stay documented by their own
 * decorators (not listed here), so the plugin changes nothing of them.
 */
const RESPONSE_CLASS_FILES = ['.types.ts', '-views.ts', '/common/api-error.ts'];

// openapi.ts imports the generated file, and the generator type-checks the project first: a stub stands in meanwhile
// (also for a stale file whose imports no longer resolve).
const STUB = 'export default async () => ({});\n';
mkdirSync(OUTPUT_DIR, { recursive: true });
writeFileSync(join(OUTPUT_DIR, FILENAME), STUB);

new PluginMetadataGenerator().generate({
  visitors: [
    new ReadonlyVisitor({
      // Import paths in the generated file are relative to this directory: where the file is written.
      pathToSource: OUTPUT_DIR,
      introspectComments: true,
      classValidatorShim: false,
      dtoFileNameSuffix: RESPONSE_CLASS_FILES,
      // Controllers document their operations with decorators; the plugin adds nothing to them.
      controllerFileNameSuffix: ['.no-controller-introspection'],
    }),
  ],
  outputDir: OUTPUT_DIR,
  filename: FILENAME,
  tsconfigPath: 'tsconfig.build.json',
  printDiagnostics: true,
});

if (readFileSync(join(OUTPUT_DIR, FILENAME), 'utf8') === STUB) {
  console.error(`openapi-metadata: nothing was generated into ${FILENAME}`);
  process.exit(1);
}
