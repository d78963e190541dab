import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, eventually, sampleReference, startTestHub, type TestHub } from '../integration/hub-fixture';

// What a channel integrator does with /openapi.json: validate it with strict OpenAPI 3.1 tooling,
// generate a typed client from it (openapi-typescript), compile that client, and call the hub with it.
// The client's method names are the operationIds, so they are pinned here: renaming one breaks the
// integrators' code and must break this test first.

const ROOT = path.join(__dirname, '../..');
const EXPECTED_OPERATIONS = {
  'POST /oauth/token': 'issueToken',
  'GET /v1/{channel}/loans/{loanNumber}': 'getLoan',
  'POST /v1/{channel}/payments': 'createPayment',
  'GET /v1/{channel}/payments': 'findPaymentsByReference',
  'GET /v1/{channel}/payments/{paymentId}': 'getPayment',
  'POST /v1/{channel}/payments/{paymentId}/reversal': 'reversePayment',
};

interface Operation {
  operationId?: string;
  tags?: string[];
  description?: string;
}
interface Document {
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

/** Runs a node script as a child process without blocking this process (the hub under test lives here). */
function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      err && !stdout ? reject(new Error(`${args[0]}: ${stderr}`)) : resolve(stdout),
    );
  });
}

let t: TestHub;
let doc: Document;
let work: string;

beforeAll(async () => {
  t = await startTestHub();
  doc = (await api(`${t.url}/openapi.json`)).json as unknown as Document;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-openapi-'));
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('/openapi.json for strict OpenAPI 3.1 tooling', () => {
  it('validates against the OpenAPI 3.1 schema, and every component schema against JSON Schema 2020-12', async () => {
    const file = path.join(work, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    const out = await runNode([path.join(__dirname, 'openapi-tooling/validate-openapi.mjs'), file]);
    expect(JSON.parse(out)).toEqual({ valid: true, errors: null, resolveError: null, schemaErrors: {} });
  });

  it('the same check refuses a component schema with a fragment $id (what the document used to carry)', async () => {
    const file = path.join(work, 'openapi-with-id.json');
    const broken = structuredClone(doc);
    const payment = broken.components.schemas.Payment;
    if (!payment) throw new Error('no Payment schema');
    payment.$id = '#/components/schemas/Payment';
    fs.writeFileSync(file, JSON.stringify(broken));
    const out = await runNode([path.join(__dirname, 'openapi-tooling/validate-openapi.mjs'), file]);
    const verdict = JSON.parse(out) as { valid: boolean; schemaErrors: Record<string, unknown> };
    expect([verdict.valid, Object.keys(verdict.schemaErrors)]).toEqual([false, ['Payment']]);
  });

  it('no $id anywhere in the document', () => {
    expect(JSON.stringify(doc)).not.toContain('"$id"');
  });

  it('every operation has its stable operationId, a declared tag and a description', () => {
    const declared = new Set(doc.tags.map((tag) => tag.name));
    const found: Record<string, string | undefined> = {};
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        found[`${method.toUpperCase()} ${p}`] = op.operationId;
        expect([p, method, op.tags?.length]).toEqual([p, method, 1]);
        expect(declared.has(op.tags?.[0] ?? '')).toBe(true);
        expect((op.description ?? '').length).toBeGreaterThan(40);
      }
    }
    expect(found).toEqual(EXPECTED_OPERATIONS);
  });
});

// A small client on top of the generated types, as an integrator would write it: every parameter,
// body and answer is typed from the document, and its methods are named by operationId.
const CLIENT = `
import type { components, operations } from './loanhub-api';

type Problem = components['schemas']['Problem'];
type Op = keyof operations;
type Path<O extends Op> = operations[O]['parameters']['path'];
type JsonIn<O extends Op> = operations[O] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
type JsonOut<O extends Op, S extends number> = operations[O]['responses'] extends {
  [K in S]: { content: { 'application/json': infer R } };
}
  ? R
  : never;
export type Answer<T> = { ok: true; status: number; body: T } | { ok: false; status: number; problem: Problem };

export function createLoanHubClient(baseUrl: string, token: string) {
  async function call<T>(method: string, path: string, init: { body?: unknown; key?: string; query?: string } = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { authorization: 'Bearer ' + token };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.key !== undefined) headers['idempotency-key'] = init.key;
    const res = await fetch(baseUrl + path + (init.query ?? ''), {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const json: unknown = await res.json();
    return res.ok ? { ok: true, status: res.status, body: json as T } : { ok: false, status: res.status, problem: json as Problem };
  }
  const seg = encodeURIComponent;
  return {
    getLoan: (p: Path<'getLoan'>) => call<JsonOut<'getLoan', 200>>('GET', '/v1/' + p.channel + '/loans/' + seg(p.loanNumber)),
    createPayment: (p: Path<'createPayment'>, key: string, body: JsonIn<'createPayment'>) =>
      call<JsonOut<'createPayment', 201>>('POST', '/v1/' + p.channel + '/payments', { body, key }),
    getPayment: (p: Path<'getPayment'>) =>
      call<JsonOut<'getPayment', 200>>('GET', '/v1/' + p.channel + '/payments/' + seg(p.paymentId)),
    findPaymentsByReference: (p: Path<'findPaymentsByReference'>, q: operations['findPaymentsByReference']['parameters']['query']) =>
      call<JsonOut<'findPaymentsByReference', 200>>('GET', '/v1/' + p.channel + '/payments', {
        query: '?channelReference=' + seg(q.channelReference),
      }),
    reversePayment: (p: Path<'reversePayment'>, key: string, body?: JsonIn<'reversePayment'>) =>
      call<JsonOut<'reversePayment', 202>>('POST', '/v1/' + p.channel + '/payments/' + seg(p.paymentId) + '/reversal', { body, key }),
  };
}
`;

// Code a careless integrator might write; the generated types must refuse every line of it.
const MISUSE = `
import { createLoanHubClient } from './client';
const c = createLoanHubClient('http://127.0.0.1', 't');
void c.createPayment({ channel: 'app' }, 'k', { loanNumber: '100000000001', amount: 125.5, currency: 'PEN', channelReference: 'APP-1' });
void c.createPayment({ channel: 'app' }, 'k', { loanNumber: '100000000001', amount: '1.00', currency: 'EUR', channelReference: 'APP-1' });
void c.getLoan({ channel: 'bank', loanNumber: '100000000001' });
void c.getPayment({ channel: 'app' });
void c.getLoan({ channel: 'app', loanNumber: '100000000001' }).then((a) => (a.ok ? a.body.balance : a.problem.code));
`;

/**
 * Compiles with the project's tsc in a child process, as an integrator's build would (and so the hub in
 * this process keeps serving meanwhile). Returns the diagnostics as `file:line TScode`.
 */
async function compile(files: string[], outDir: string): Promise<string[]> {
  const args = [
    path.join(ROOT, 'node_modules/typescript/bin/tsc'),
    ...['--pretty', 'false', '--strict', '--noEmitOnError', '--skipLibCheck'],
    ...['--target', 'es2022', '--module', 'commonjs', '--lib', 'es2022', '--types', 'node'],
    ...['--typeRoots', path.join(ROOT, 'node_modules/@types'), '--outDir', outDir],
    ...files,
  ];
  const output = await new Promise<string>((resolve) => {
    execFile(process.execPath, args, { encoding: 'utf8' }, (_err, stdout) => resolve(stdout));
  });
  return [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+)/gm)].map(
    (m) => `${path.basename(m[1] ?? '')}:${m[2]} ${m[3]}`,
  );
}

describe('a typed client generated from /openapi.json', () => {
  let client: {
    createLoanHubClient(
      baseUrl: string,
      token: string,
    ): Record<string, (...args: unknown[]) => Promise<{ ok: boolean; status: number; body?: never; problem?: never }>>;
  };

  beforeAll(async () => {
    // openapi-typescript, fed the document exactly as the hub serves it.
    const file = path.join(work, 'served-openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    await runNode([
      path.join(__dirname, 'openapi-tooling/generate-types.mjs'),
      file,
      path.join(work, 'loanhub-api.ts'),
    ]);
    fs.writeFileSync(path.join(work, 'client.ts'), CLIENT);
    fs.writeFileSync(path.join(work, 'misuse.ts'), MISUSE);
  });

  it('compiles under strict TypeScript, and refuses wrong amounts, currencies, channels and fields', async () => {
    const out = path.join(work, 'out');
    expect(await compile([path.join(work, 'client.ts')], out)).toEqual([]);
    const misuse = await compile([path.join(work, 'misuse.ts')], path.join(work, 'misuse-out'));
    // One error per misuse line (4-8 of MISUSE): a number amount, EUR, a channel that is not one, a
    // missing path parameter, a field the Loan schema does not have.
    expect([...new Set(misuse.map((d) => d.split(' ')[0]))]).toEqual([
      'misuse.ts:4',
      'misuse.ts:5',
      'misuse.ts:6',
      'misuse.ts:7',
      'misuse.ts:8',
    ]);
    client = require(path.join(out, 'client.js')) as typeof client;
    // Two tsc runs in child processes: seconds on an idle machine, a minute or more on a loaded one.
  }, 180_000);

  it('takes a payment, reads it, finds it by reference and reverses it on the running hub', async () => {
    const c = client.createLoanHubClient(t.url, await t.token('app')) as unknown as {
      getLoan(p: object): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }>;
      createPayment(
        p: object,
        key: string,
        body: object,
      ): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }>;
      getPayment(p: object): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }>;
      findPaymentsByReference(p: object, q: object): Promise<{ ok: boolean; status: number; body: unknown[] }>;
      reversePayment(p: object, key: string): Promise<{ ok: boolean; status: number; body: Record<string, unknown> }>;
    };
    const loan = await c.getLoan({ channel: 'app', loanNumber: '100000000001' });
    expect([loan.status, loan.body.loanNumber, loan.body.core]).toEqual([200, '100000000001', 'cash']);

    const channelReference = sampleReference('app');
    const created = await c.createPayment({ channel: 'app' }, randomUUID(), {
      loanNumber: '100000000001',
      amount: '7.25',
      currency: 'PEN',
      channelReference,
    });
    expect([created.status, created.body.status, created.body.amount]).toEqual([201, 'ACCEPTED', '7.25']);
    const paymentId = String(created.body.paymentId);

    const found = await c.findPaymentsByReference({ channel: 'app' }, { channelReference });
    expect([found.status, found.body.length]).toEqual([200, 1]);

    await eventually(
      async () => {
        const p = await c.getPayment({ channel: 'app', paymentId });
        return p.body.status === 'APPLIED' ? p : undefined;
      },
      20_000,
      'the payment to be APPLIED',
    );
    const reversal = await c.reversePayment({ channel: 'app', paymentId }, randomUUID());
    expect([reversal.status, reversal.body.status]).toEqual([202, 'REVERSAL_PENDING']);
  });

  it('reads a refusal as the typed Problem, with every problem in errors', async () => {
    const c = client.createLoanHubClient(t.url, await t.token('app')) as unknown as {
      createPayment(
        p: object,
        key: string,
        body: object,
      ): Promise<{ ok: boolean; status: number; problem: { code: string; errors: { code: string }[] } }>;
    };
    const r = await c.createPayment({ channel: 'app' }, randomUUID(), {
      loanNumber: '1',
      amount: '1.001',
      currency: 'PEN',
      channelReference: 'APP-1',
    });
    expect([r.ok, r.status, r.problem.code, r.problem.errors.map((e) => e.code)]).toEqual([
      false,
      400,
      'invalid_loan_number',
      ['invalid_loan_number', 'amount_too_precise'],
    ]);
  });
});
