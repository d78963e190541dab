import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import { samplePayment } from './contract/payment-store-contract';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-store-'));
  dirs.push(dir);
  return path.join(dir, 'hub.db');
}

describe('SQLite store files', () => {
  it('reopens an existing file without re-running migrations and keeps its rows', async () => {
    const file = tempFile();
    const first = openSqliteStore({ file });
    const p = samplePayment();
    await first.acceptPayment({
      payment: p,
      idempotency: {
        clientId: 'app-client',
        key: 'x',
        fingerprint: 'f',
        paymentId: p.id,
        responseStatus: 201,
        responseBody: '{}',
        createdAt: p.createdAt,
        expiresAt: p.createdAt,
      },
      outbox: [],
    });
    await first.close();
    const second = openSqliteStore({ file });
    expect(await second.getPayment(p.id)).toEqual(p);
    await second.close();
  });
});

describe('group commit', () => {
  it('writes arriving together share a commit, and one failing write loses only itself', async () => {
    const store = openSqliteStore({ file: tempFile() });
    const payments = Array.from({ length: 20 }, () => samplePayment());
    const clash = samplePayment({ receiptNumber: payments[3]?.receiptNumber ?? '' });
    const idem = (p: typeof clash, key: string) => ({
      clientId: p.clientId,
      key,
      fingerprint: 'f',
      paymentId: p.id,
      responseStatus: 201,
      responseBody: '{}',
      createdAt: p.createdAt,
      expiresAt: p.createdAt,
    });
    const outcomes = await Promise.all([
      ...payments.map((p, i) => store.acceptPayment({ payment: p, idempotency: idem(p, `g${i}`), outbox: [] })),
      store.acceptPayment({
        payment: clash,
        idempotency: idem(clash, 'gclash'),
        outbox: [{ topic: 'core.command', messageId: 'x', payload: '{}' }],
      }),
    ]);
    expect(outcomes.slice(0, 20).every((o) => o.kind === 'created')).toBe(true);
    expect(outcomes[20]).toEqual({ kind: 'receipt_taken' });
    for (const p of payments) expect(await store.getPayment(p.id)).toEqual(p);
    expect(await store.getPayment(clash.id)).toBeNull();
    expect(await store.findIdempotency('app-client', 'gclash')).toBeNull();
    expect((await store.outboxStats()).pending).toBe(0);
    await store.close();
  });
});
