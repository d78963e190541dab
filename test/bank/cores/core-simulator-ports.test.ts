import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SimulatorPortInUseError,
  startCoreSimulators,
  type CoreSimulator,
} from '../../../bank/cores/core-simulator-server';

// A simulator's port in use: a preferred (default) port gives way to a free one and says so; a chosen
// port fails with the variable that chooses it, and nothing is left running.

let dir: string;
let holder: Server;
let held = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loanhub-sim-ports-'));
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  held = address.port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test('a preferred port in use: the simulator takes a free one and the caller is told where', async () => {
  const taken: { core: string; busyPort: number; url: string }[] = [];
  const sims: CoreSimulator[] = await startCoreSimulators({
    dataDir: dir,
    ports: { cash: held },
    preferredOnly: ['cash', 'mortgage', 'vehicle'],
    onPortTaken: (event) => taken.push(event),
  });
  try {
    const cash = sims.find((s) => s.core === 'cash');
    expect(taken).toEqual([{ core: 'cash', busyPort: held, url: cash?.url }]);
    expect(cash?.url).not.toBe(`http://127.0.0.1:${held}`);
    expect((await fetch(new URL('/_admin/fault', cash?.url))).status).toBe(200);
  } finally {
    await Promise.all(sims.map((s) => s.close()));
  }
});

test('a chosen port in use fails with SimulatorPortInUseError naming LOANHUB_CORE_<CORE>_PORT; the others are stopped', async () => {
  const attempt = startCoreSimulators({ dataDir: dir, ports: { cash: 0, mortgage: held }, preferredOnly: ['cash'] });
  await expect(attempt).rejects.toBeInstanceOf(SimulatorPortInUseError);
  await expect(attempt).rejects.toMatchObject({
    code: 'simulator_port_in_use',
    core: 'mortgage',
    port: held,
    message: expect.stringContaining('set LOANHUB_CORE_MORTGAGE_PORT to a free port'),
  });
  // The cash simulator that had started was closed: its ledger can be opened again by a new one.
  const again = await startCoreSimulators({ dataDir: dir });
  await Promise.all(again.map((s) => s.close()));
});
