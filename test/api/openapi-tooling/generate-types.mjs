// Generates TypeScript types from an OpenAPI document with openapi-typescript, as a channel integrator
// would (`npx openapi-typescript openapi.json -o loanhub-api.ts`); run as a child process by
// test/api/openapi-tooling.test.ts because openapi-typescript loads ESM-only dependencies.
// Usage: node generate-types.mjs <document.json> <out.ts>
import fs from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';

const [file, out] = process.argv.slice(2);
const ast = await openapiTS(JSON.parse(fs.readFileSync(file, 'utf8')));
fs.writeFileSync(out, astToString(ast));
