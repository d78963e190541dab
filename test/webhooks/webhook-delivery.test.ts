import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Command } from 'commander';
import { registerWebhookCommands } from '../../cli/webhooks-command';
import { parseSecret, verifyWebhook, type SigningKey } from '../../webhooks/webhook-signature';
import { embeddedSecretsFile } from '../../webhooks/webhook-secrets';
import { eventually, sleep, startReceiver, startRig, type Receiver, type Rig } from './webhook-rig';

// The confirmation webhooks end to end: real payments in a real SQLite store, the dispatcher, and an
// HTTP receiver that verifies every signature the way a channel would.

const NEW = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const OLD = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

let receiver: Receiver;
let rig: Rig | undefined;

beforeEach(async () => {
  receiver = await startReceiver();
});

afterEach(async () => {
  if (rig) {
    const lines = rig.logLines.join('\n');
    // Never a secret or a signature in a log line; every line about a delivery names its payment.
    expect(lines).not.toMatch(/whsec_/);
    for (const r of receiver.received) {
      for (const sig of String(r.headers['webhook-signature']).split(' ')) expect(lines).not.toContain(sig.slice(3));
    }
    for (const line of rig.logLines) {
      const entry = JSON.parse(line) as { deliveryId?: unknown; paymentId?: unknown };
      if (entry.deliveryId !== undefined) expect(typeof entry.paymentId).toBe('string');
    }
    await rig.stop();
    rig = undefined;
  }
  await receiver.close();
});

function appEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    LOANHUB_CHANNEL_APP_CALLBACK_URL: receiver.url,
    LOANHUB_WEBHOOK_SECRETS_APP: `${NEW},${OLD}`,
    ...extra,
  };
}

const keysOf = (...secrets: string[]): SigningKey[] => secrets.map((s) => parseSecret(s, 'test'));

async function runCli(dataDir: string, args: string[]): Promise<{ out: string; code: number }> {
  const program = new Command('loanhub').exitOverride();
  registerWebhookCommands(program);
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const saved = process.env.LOANHUB_DATA_DIR;
  process.env.LOANHUB_DATA_DIR = dataDir;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'loanhub', 'webhooks', ...args]);
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    return { out: out.join(''), code };
  } finally {
    process.exitCode = undefined;
    write.mockRestore();
    if (saved === undefined) delete process.env.LOANHUB_DATA_DIR;
    else process.env.LOANHUB_DATA_DIR = saved;
  }
}

describe('confirmation webhooks', () => {
  it('each state change arrives signed; a receiver holding either rotation secret verifies it', async () => {
    rig = await startRig({ env: appEnv() });
    const p = await rig.pay();
    await rig.change(p.id, { type: 'core_applied' });
    const got = await eventually(() => (receiver.received.length >= 2 ? receiver.received : undefined), '2 webhooks');
    expect(got.map((r) => r.eventId)).toEqual([`${p.id}:ACCEPTED`, `${p.id}:APPLIED`]);
    for (const r of got) {
      expect(verifyWebhook(keysOf(NEW), r.headers, r.body)).toEqual({ ok: true });
      expect(verifyWebhook(keysOf(OLD), r.headers, r.body)).toEqual({ ok: true });
      expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const applied = JSON.parse(got[1]?.body ?? '{}') as {
      id: string;
      type: string;
      data: { amount: string; status: string };
    };
    expect(applied).toMatchObject({
      id: `${p.id}:APPLIED`,
      type: 'payment.applied',
      data: { amount: '123.45', status: 'APPLIED' },
    });
    // The receiver answers before the dispatcher records the outcome: wait for the second record.
    const statuses = await eventually(() => {
      const s = (rig?.deliveries({ paymentId: p.id }) ?? []).map((d) => d.status);
      return s.length === 2 && s.every((x) => x === 'delivered') ? s : undefined;
    }, 'both deliveries recorded');
    expect(statuses).toEqual(['delivered', 'delivered']);
    // The outbox rows were consumed with the inserts.
    expect(await rig.store.outboxStats()).toEqual({ pending: 0, oldestPendingAt: null });
  });

  it('a 500 is retried with backoff until a 2xx, with the same webhook-id', async () => {
    receiver.respond = ({ seen }) => ({ status: seen <= 2 ? 500 : 200 });
    rig = await startRig({ env: appEnv() });
    const p = await rig.pay();
    const delivered = await eventually(
      () => rig?.deliveries({ paymentId: p.id }).find((d) => d.status === 'delivered'),
      'the delivery after two 500s',
    );
    expect(receiver.received.map((r) => [r.eventId, r.answered])).toEqual([
      [`${p.id}:ACCEPTED`, 500],
      [`${p.id}:ACCEPTED`, 500],
      [`${p.id}:ACCEPTED`, 200],
    ]);
    expect(delivered.attempts).toBe(3);
  });

  it('a 410 disables the endpoint: deliveries wait until `webhooks enable`, then arrive', async () => {
    receiver.respond = () => ({ status: 410 });
    rig = await startRig({ env: appEnv() });
    const first = await rig.pay();
    await eventually(() => (receiver.received.length === 1 ? true : undefined), 'the 410');
    await eventually(
      () => (rig?.deliveries({ paymentId: first.id })[0]?.lastStatus === 410 ? true : undefined),
      'the 410 recorded',
    );
    const second = await rig.pay();
    await eventually(() => rig?.deliveries({ paymentId: second.id })[0], 'the second delivery row');
    // Many polls later nothing more has been sent to a disabled endpoint.
    await sleep(400);
    expect(receiver.received).toHaveLength(1);
    const listed = await runCli(rig.dataDir, ['endpoints', '--json']);
    expect(JSON.parse(listed.out)).toContainEqual(
      expect.objectContaining({ channel: 'app', disabledReason: expect.stringContaining('410') }),
    );

    receiver.respond = () => ({ status: 200 });
    const enabled = await runCli(rig.dataDir, ['enable', '--channel', 'app', '--json']);
    expect(enabled.code).toBe(0);
    expect(JSON.parse(enabled.out)).toEqual({ channel: 'app', wasDisabled: true, waiting: 2 });
    await eventually(() => (receiver.received.length === 3 ? true : undefined), 'both deliveries after enable');
    expect(
      receiver.received
        .slice(1)
        .map((r) => r.eventId)
        .sort(),
    ).toEqual([`${first.id}:ACCEPTED`, `${second.id}:ACCEPTED`].sort());
  });

  it('a 503 with Retry-After in seconds and a 429 with an HTTP date are waited out, not the backoff', async () => {
    receiver.respond = ({ seen, body }) => {
      if (seen > 1) return { status: 200 };
      const isFirstPayment = body.includes(firstId);
      return isFirstPayment
        ? { status: 503, headers: { 'retry-after': '1' } }
        : { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } };
    };
    let firstId = '-';
    rig = await startRig({ env: appEnv() });
    const a = await rig.pay();
    firstId = a.id;
    const b = await rig.pay();
    for (const p of [a, b]) {
      await eventually(() => rig?.deliveries({ paymentId: p.id }).find((d) => d.status === 'delivered'), 'delivery');
    }
    const times = (id: string) => receiver.received.filter((r) => r.eventId === `${id}:ACCEPTED`).map((r) => r.at);
    const [a1, a2] = times(a.id);
    const [b1, b2] = times(b.id);
    // The fast schedule would retry within 20 ms; the receiver asked for 1 s and for about 2 s (the
    // HTTP date has whole seconds).
    expect((a2 ?? 0) - (a1 ?? 0)).toBeGreaterThanOrEqual(1000);
    expect((b2 ?? 0) - (b1 ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it("a payment's later event is never sent before its earlier one is delivered (many payments, random 500s)", async () => {
    let n = 0;
    receiver.respond = () => {
      n += 1;
      return { status: n % 3 === 0 ? 500 : 200 };
    };
    rig = await startRig({ env: appEnv(), concurrency: 32 });
    const payments = await Promise.all(Array.from({ length: 40 }, () => rig?.pay()));
    for (const p of payments) {
      if (!p) throw new Error('no payment');
      await rig.change(p.id, { type: 'core_applied' });
      await rig.change(p.id, { type: 'mainframe_posted' });
    }
    await eventually(
      () => (rig?.deliveries().filter((d) => d.status === 'delivered').length === 120 ? true : undefined),
      '120 deliveries',
    );
    for (const p of payments) {
      if (!p) continue;
      const seq = receiver.received.filter((r) => r.eventId.startsWith(`${p.id}:`));
      const order = ['ACCEPTED', 'APPLIED', 'POSTED'];
      let step = 0;
      for (const r of seq) {
        // Every request is for the current step; a 2xx moves to the next one.
        expect(r.eventId).toBe(`${p.id}:${order[step]}`);
        if (r.answered === 200) step += 1;
      }
      expect(step).toBe(3);
    }
  });

  it('a delivery that keeps failing is dead-lettered after the schedule, unblocks the next event, and a CLI redelivery arrives', async () => {
    receiver.respond = ({ eventId }) => ({ status: eventId.endsWith(':ACCEPTED') ? 500 : 200 });
    rig = await startRig({
      env: appEnv(),
      schedule: { baseDelayMs: 10, maxDelayMs: 40, giveUpAfterMs: 250, maxRetryAfterMs: 1000 },
    });
    const p = await rig.pay();
    await rig.change(p.id, { type: 'core_applied' });
    const dead = await eventually(
      () => rig?.deliveries({ paymentId: p.id }).find((d) => d.status === 'dead'),
      'the dead letter',
    );
    expect(dead.eventId).toBe(`${p.id}:ACCEPTED`);
    expect(dead.attempts).toBeGreaterThanOrEqual(2);
    expect(dead.lastStatus).toBe(500);
    await eventually(
      () =>
        rig?.deliveries({ paymentId: p.id }).find((d) => d.eventId.endsWith(':APPLIED') && d.status === 'delivered'),
      'the APPLIED event after the dead one',
    );
    const listed = await runCli(rig.dataDir, ['list', '--status', 'dead', '--json']);
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ id: dead.id, status: 'dead', paymentId: p.id })]);
    expect(JSON.parse(listed.out)[0]).not.toHaveProperty('payload');

    receiver.respond = () => ({ status: 200 });
    const before = receiver.received.length;
    const redo = await runCli(rig.dataDir, ['redeliver', '--channel', 'app', '--dead', '--json']);
    expect(redo.code).toBe(0);
    expect(JSON.parse(redo.out)).toMatchObject({ redelivered: 1 });
    const arrived = await eventually(
      () => receiver.received.slice(before).find((r) => r.eventId === `${p.id}:ACCEPTED` && r.answered === 200),
      'the redelivered webhook',
    );
    expect(verifyWebhook(keysOf(NEW), arrived.headers, arrived.body)).toEqual({ ok: true });
    await eventually(
      () => rig?.deliveries({ paymentId: p.id }).find((d) => d.id === dead.id && d.status === 'delivered'),
      'the dead letter delivered',
    );
    // By event id too, for an event already delivered (the channel lost it).
    const again = await runCli(rig.dataDir, ['redeliver', '--id', `${p.id}:APPLIED`]);
    expect(again.code).toBe(0);
    await eventually(
      () => (receiver.received.filter((r) => r.eventId === `${p.id}:APPLIED`).length === 2 ? true : undefined),
      'the APPLIED event a second time',
    );
    const nothing = await runCli(rig.dataDir, ['redeliver', '--id', 'no-such-event']);
    expect(nothing.code).toBe(1);
  });

  it("a receiver that hangs holds only its channel's share of the slots; other channels keep flowing", async () => {
    const held: Array<() => void> = [];
    const stuck = await startReceiver();
    stuck.respond = () => ({ status: 200 });
    const hang = http.createServer((_req, res) => {
      held.push(() => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    const hangUrl = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/hooks`;
    try {
      rig = await startRig({
        env: appEnv({ LOANHUB_CHANNEL_AGENTS_CALLBACK_URL: hangUrl, LOANHUB_WEBHOOK_SECRETS_AGENTS: OLD }),
        concurrency: 16,
        timeoutMs: 60_000,
      });
      for (let i = 0; i < 20; i += 1) await rig.pay('agents');
      await eventually(() => (held.length === 8 ? true : undefined), 'agents holding its 8 slots');
      const app = await Promise.all(Array.from({ length: 5 }, () => rig?.pay('app')));
      await eventually(
        () => (receiver.received.filter((r) => r.answered === 204).length === 5 ? true : undefined),
        "app's webhooks while agents hangs",
      );
      expect(receiver.received.map((r) => r.eventId).sort()).toEqual(app.map((p) => `${p?.id}:ACCEPTED`).sort());
      expect(held).toHaveLength(8);
    } finally {
      for (const release of held.splice(0)) release();
      await stuck.close();
      await rig?.stop();
      rig = undefined;
      hang.closeAllConnections();
      await new Promise<void>((resolve) => hang.close(() => resolve()));
    }
  });

  it('a channel without a callback URL gets skipped_no_endpoint rows, not endless retries', async () => {
    rig = await startRig({ env: appEnv() });
    const p = await rig.pay('web');
    const row = await eventually(() => rig?.deliveries({ paymentId: p.id })[0], 'the delivery row');
    expect(row).toMatchObject({ status: 'skipped_no_endpoint', attempts: 0, eventId: `${p.id}:ACCEPTED` });
    const listed = await runCli(rig.dataDir, ['list', '--status', 'skipped', '--channel', 'web', '--json']);
    expect(JSON.parse(listed.out)).toHaveLength(1);
    expect(receiver.received).toHaveLength(0);
  });

  it('with no secrets variable the embedded hub generates one per channel (0600) and `webhooks secret` prints it', async () => {
    rig = await startRig({ env: { LOANHUB_CHANNEL_APP_CALLBACK_URL: receiver.url } });
    const file = embeddedSecretsFile(rig.dataDir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const printed = await runCli(rig.dataDir, ['secret', '--channel', 'app']);
    expect(printed.code).toBe(0);
    const secret = printed.out.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const p = await rig.pay();
    const got = await eventually(() => receiver.received[0], 'the webhook');
    expect(got.eventId).toBe(`${p.id}:ACCEPTED`);
    expect(verifyWebhook(keysOf(secret), got.headers, got.body)).toEqual({ ok: true });
    const other = await runCli(rig.dataDir, ['secret', '--channel', 'web']);
    expect(other.out.trim()).not.toBe(secret);
  });

  it('an outbox row is turned into a delivery once, even when the dispatcher restarts', async () => {
    rig = await startRig({ env: appEnv() });
    const p = await rig.pay();
    await eventually(() => receiver.received[0], 'the webhook');
    await rig.dispatcher.stop();
    const { dataDir } = rig;
    const second = await startRig({ env: appEnv(), dataDir });
    try {
      await rig.store.close();
      const q = await second.pay();
      await eventually(() => receiver.received.find((r) => r.eventId === `${q.id}:ACCEPTED`), 'the next webhook');
      expect(second.deliveries({ paymentId: p.id })).toHaveLength(1);
      expect(receiver.received.filter((r) => r.eventId === `${p.id}:ACCEPTED`)).toHaveLength(1);
    } finally {
      await second.stop();
      rig.logLines.push(...second.logLines);
      fs.rmSync(dataDir, { recursive: true, force: true });
      rig = undefined;
    }
  });
});
