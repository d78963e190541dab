import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../store/sqlite/sqlite-store';
import { samplePayment, storeContract } from './store-contract';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-store-'));
  dirs.push(dir);
  return path.join(dir, 'hub.db');
}

storeContract('SQLite', async () => openSqliteStore({ file: tempFile() }));

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
