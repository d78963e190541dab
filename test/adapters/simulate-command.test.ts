import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { getSimulatorFault, listExtractFaults, setSimulatorFault } from '../../bank/cores/core-faults';
import { startCoreSimulator, type CoreSimulator } from '../../bank/cores/core-simulator-server';
import { registerSimulateCommands } from '../../cli/simulate-command';

function program(): { program: Command; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const p = new Command('loanhub')
    .exitOverride()
    .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerSimulateCommands(p);
  return { program: p, out, err };
}

function captureStdout(): { lines: () => string; restore: () => void } {
  const chunks: string[] = [];
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  return {
    lines: () => chunks.join(''),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

const run = (p: Command, args: string[]) => p.parseAsync(['node', 'loanhub', ...args]);

describe('loanhub simulate fault', () => {
  let dataDir: string;
  let cash: CoreSimulator;
  let mortgage: CoreSimulator;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'loanhub-cli-'));
    cash = await startCoreSimulator('cash', { dataDir, env: {} });
    mortgage = await startCoreSimulator('mortgage', { dataDir, env: {} });
  });
  afterAll(async () => {
    await cash.close();
    await mortgage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('sets the mode on the named core and prints the new state', async () => {
    const stdout = captureStdout();
    try {
      await run(program().program, [
        'simulate',
        'fault',
        '--core',
        'cash',
        '--mode',
        'slow',
        '--delay-ms',
        '300',
        '--url',
        cash.url,
      ]);
    } finally {
      stdout.restore();
    }
    expect(JSON.parse(stdout.lines())).toEqual({ core: 'cash', mode: 'slow', delayMs: 300, status: 503 });
    expect(await getSimulatorFault(cash.url)).toMatchObject({ mode: 'slow', delayMs: 300 });
    await setSimulatorFault(cash.url, { mode: 'ok' });
  });

  test('a URL of another core is refused and changes nothing', async () => {
    await expect(
      run(program().program, ['simulate', 'fault', '--core', 'cash', '--mode', 'down', '--url', mortgage.url]),
    ).rejects.toThrow(/mortgage core, not cash/);
    expect(await getSimulatorFault(mortgage.url)).toMatchObject({ mode: 'ok' });
  });

  test('an unreachable simulator is an error that names the URL', async () => {
    const gone = await startCoreSimulator('vehicle', { dataDir, env: {} });
    await gone.close();
    await expect(
      run(program().program, ['simulate', 'fault', '--core', 'vehicle', '--mode', 'ok', '--url', gone.url]),
    ).rejects.toThrow(new RegExp(`could not set the fault on the vehicle simulator at ${gone.url}`));
  });

  test('an unknown mode or a missing core is a usage error', async () => {
    const bad = program();
    await expect(
      run(bad.program, ['simulate', 'fault', '--core', 'cash', '--mode', 'sideways']),
    ).rejects.toBeInstanceOf(CommanderError);
    expect(bad.err.join('')).toMatch(/Allowed choices are ok, down, slow, error/);
    await expect(run(program().program, ['simulate', 'fault', '--mode', 'down'])).rejects.toBeInstanceOf(
      CommanderError,
    );
  });

  test('--help describes the options', async () => {
    const help = program();
    await expect(run(help.program, ['simulate', 'fault', '--help'])).rejects.toMatchObject({
      code: 'commander.helpDisplayed',
    });
    expect(help.out.join('')).toMatch(/--delay-ms/);
  });
});

describe('loanhub simulate cores', () => {
  test('runs the three simulators, prints their URLs and stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'loanhub-cli-cores-'));
    const stdout = captureStdout();
    try {
      const running = run(program().program, [
        'simulate',
        'cores',
        '--data-dir',
        dataDir,
        '--cash-port',
        '0',
        '--mortgage-port',
        '0',
        '--vehicle-port',
        '0',
      ]);
      while (stdout.lines().split('\n').length < 4) await new Promise((resolve) => setTimeout(resolve, 20));
      const urls = Object.fromEntries(
        stdout
          .lines()
          .trim()
          .split('\n')
          .map((line) => line.split(/\s+/)),
      );
      expect(Object.keys(urls)).toEqual(['cash', 'mortgage', 'vehicle']);
      expect(await getSimulatorFault(String(urls.vehicle))).toMatchObject({ core: 'vehicle', mode: 'ok' });
      process.emit('SIGTERM', 'SIGTERM');
      await running;
      await expect(getSimulatorFault(String(urls.vehicle))).rejects.toThrow();
    } finally {
      stdout.restore();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a port that is not a port is a usage error', async () => {
    await expect(run(program().program, ['simulate', 'cores', '--cash-port', '70000'])).rejects.toBeInstanceOf(
      CommanderError,
    );
  });
});

describe('loanhub simulate extract-fault', () => {
  let dataDir: string;
  let cash: CoreSimulator;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'loanhub-cli-extract-'));
    cash = await startCoreSimulator('cash', { dataDir, env: {} });
  });
  afterAll(async () => {
    await cash.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function cli(args: string[]): Promise<unknown> {
    const stdout = captureStdout();
    try {
      await run(program().program, ['simulate', 'extract-fault', '--core', 'cash', '--url', cash.url, ...args]);
      return JSON.parse(stdout.lines());
    } finally {
      stdout.restore();
    }
  }

  test('plants, lists and clears the faults of a running simulator, amounts as decimal strings', async () => {
    await cli(['--duplicate', 'pay-1']);
    await cli(['--drop', 'pay-2']);
    expect(await cli(['--payment', 'pay-3', '--amount', '12.50'])).toEqual({
      core: 'cash',
      faults: [
        { action: 'duplicate', paymentId: 'pay-1' },
        { action: 'drop', paymentId: 'pay-2' },
        { action: 'amount', paymentId: 'pay-3', amount: '12.50' },
      ],
    });
    expect(await listExtractFaults(cash.url)).toEqual(expect.objectContaining({ faults: expect.any(Array) }));
    expect(await cli([])).toEqual(expect.objectContaining({ core: 'cash' }));
    expect(await cli(['--clear'])).toEqual({ core: 'cash', faults: [] });
  });

  test('refuses half a request, a float-looking amount the simulator rejects, and another core at that URL', async () => {
    await expect(cli(['--payment', 'pay-4'])).rejects.toBeInstanceOf(CommanderError);
    await expect(cli(['--drop', 'pay-4', '--clear'])).rejects.toBeInstanceOf(CommanderError);
    await expect(cli(['--payment', 'pay-4', '--amount', '1e3'])).rejects.toThrow(/HTTP 400/);
    const stdout = captureStdout();
    try {
      await expect(
        run(program().program, ['simulate', 'extract-fault', '--core', 'vehicle', '--url', cash.url, '--drop', 'x']),
      ).rejects.toThrow(/that simulator is the cash core, not vehicle; nothing changed/);
    } finally {
      stdout.restore();
    }
    expect(await listExtractFaults(cash.url)).toEqual({ core: 'cash', faults: [] });
  });
});
