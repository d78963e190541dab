// Validates an OpenAPI document the way strict OpenAPI 3.1 tooling does, for test/api/openapi-tooling.test.ts
// (the validator is ESM-only, so the CommonJS tests run this as a child process):
//  1. the document against the OpenAPI 3.1 schema (@seriousme/openapi-schema-validator);
//  2. every component schema against the JSON Schema 2020-12 meta-schema, which OpenAPI 3.1 schemas are
//     (the OAS schema leaves Schema Objects unchecked; a `$id` with a fragment, for one, fails here), with
//     the Ajv 2020 the validator itself runs.
// Usage: node validate-openapi.mjs <document.json>; prints one JSON line { valid, errors, schemaErrors }.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Validator } from '@seriousme/openapi-schema-validator';

const file = process.argv[2];
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));

const validator = new Validator();
// The validator may annotate what it is given: it gets its own copy.
const result = await validator.validate(JSON.parse(JSON.stringify(doc)));
let resolveError = null;
if (result.valid) {
  try {
    validator.resolveRefs();
  } catch (err) {
    resolveError = String(err?.message ?? err);
  }
}

const requireFromValidator = createRequire(import.meta.resolve('@seriousme/openapi-schema-validator'));
const Ajv2020 = requireFromValidator('ajv/dist/2020.js').default;
const ajv = new Ajv2020({ strict: false, validateFormats: false });
const schemaErrors = {};
for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
  if (!ajv.validateSchema(schema)) schemaErrors[name] = ajv.errors;
}

process.stdout.write(
  `${JSON.stringify({
    valid: result.valid && resolveError === null && Object.keys(schemaErrors).length === 0,
    errors: result.errors ?? null,
    resolveError,
    schemaErrors,
  })}\n`,
);
