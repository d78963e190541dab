import { Command, InvalidArgumentError, Option } from 'commander';
import { createChannelCatalogue } from '../channels/channel-catalogue';
import { loadConfig } from '../config/config';
import { CHANNELS, isChannel, type Channel } from '../domain/channel';
import {
  DELIVERY_STATUSES,
  type Delivery,
  type DeliveryStatus,
  type DeliveryStore,
} from '../store/delivery-store-port';
import { openHubDeliveries } from '../store/open-store';
import { createExampleReceiver, listenExampleReceiver } from '../webhooks/example-receiver';
import { embeddedSecretsFile, ensureEmbeddedSecrets } from '../webhooks/webhook-secrets';

// `loanhub webhooks list|redeliver|enable|secret|endpoints`: the confirmation webhooks as operations see
// them. They open the data dir's hub.db next to a running hub (SQLite WAL); the hub's dispatcher picks
// redeliveries and re-enabled endpoints up on its next poll. Exit codes: 0 ok; 1 nothing matched or
// not available; 2 usage.

const STATUS_CHOICES = ['pending', 'failed', 'delivered', 'dead', 'skipped'] as const;

function asChannel(value: string): Channel {
  if (!isChannel(value)) throw new InvalidArgumentError(`one of ${CHANNELS.join(', ')}`);
  return value;
}

function asStatus(value: string): DeliveryStatus {
  const status = value === 'skipped' ? 'skipped_no_endpoint' : value;
  const found = DELIVERY_STATUSES.find((s) => s === status);
  if (found === undefined) throw new InvalidArgumentError(`one of ${STATUS_CHOICES.join(', ')}`);
  return found;
}

function asPort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('a port number');
  return Number(value);
}

function asLimit(value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('a whole number from 1');
  return Number(value);
}

const channelOption = (description: string): Option =>
  new Option('--channel <channel>', description).choices(CHANNELS).argParser(asChannel);

/** The hub's delivery table: in PostgreSQL with LOANHUB_DB_URL, else in the data dir's hub.db. */
function openDeliveries(): Promise<DeliveryStore> {
  const config = loadConfig();
  return openHubDeliveries({ dataDir: config.dataDir, dbUrl: config.dbUrl, schema: config.dbSchema });
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** What a script reads: the delivery without its payload (the event is in `eventId`/`eventType`). */
function summary(d: Delivery): Omit<Delivery, 'payload'> {
  const { payload: _payload, ...rest } = d;
  return rest;
}

function deliveryRow(d: Delivery): string[] {
  return [
    String(d.id),
    d.eventId,
    d.channel,
    d.status,
    String(d.attempts),
    d.status === 'pending' || d.status === 'failed' ? d.nextAttemptAt : '-',
    d.lastStatus === null ? '-' : String(d.lastStatus),
    d.lastError ?? '',
  ];
}

const print = (text: string): void => {
  process.stdout.write(text);
};

export function registerWebhookCommands(program: Command): void {
  const webhooks = program
    .command('webhooks')
    .description('confirmation webhooks to the channels: deliveries, redelivery, endpoints, the embedded secrets');

  webhooks
    .command('list')
    .description('webhook deliveries, newest first')
    .addOption(channelOption('only this channel'))
    .addOption(new Option('--status <status>', 'only this status').choices(STATUS_CHOICES).argParser(asStatus))
    .option('--payment <paymentId>', "only this payment's deliveries")
    .option('--limit <n>', 'at most this many (default 100)', asLimit)
    .option('--json', 'print JSON (one object per delivery, without the payload)')
    .action(
      async (flags: {
        channel?: Channel;
        status?: DeliveryStatus;
        payment?: string;
        limit?: number;
        json?: boolean;
      }) => {
        const store = await openDeliveries();
        try {
          const list = await store.list({
            ...(flags.channel ? { channel: flags.channel } : {}),
            ...(flags.status ? { status: flags.status } : {}),
            ...(flags.payment ? { paymentId: flags.payment } : {}),
            limit: flags.limit ?? 100,
          });
          if (flags.json) {
            print(`${JSON.stringify(list.map(summary), null, 2)}\n`);
            return;
          }
          print(
            table(
              ['id', 'event (webhook-id)', 'channel', 'status', 'attempts', 'next attempt', 'http', 'last error'],
              list.map(deliveryRow),
            ),
          );
        } finally {
          await store.close();
        }
      },
    );

  webhooks
    .command('redeliver')
    .description(
      'send deliveries again (same webhook-id, a fresh retry window); the running hub picks them up on its next poll',
    )
    .addOption(channelOption('only this channel'))
    .option('--id <id>', 'a delivery id, or an event id (the webhook-id, <paymentId>:<STATUS>)')
    .option('--dead', 'every dead-lettered delivery (of --channel when given)')
    .option('--skipped', 'every delivery skipped for want of a callback URL (after configuring one)')
    .option('--json', 'print { redelivered, deliveries } as JSON')
    .action(
      async (
        flags: { channel?: Channel; id?: string; dead?: boolean; skipped?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        if (flags.id === undefined && !flags.dead && !flags.skipped) {
          cmd.error('loanhub: say what to redeliver: --id, --dead or --skipped', {
            exitCode: 2,
            code: 'loanhub.usage',
          });
        }
        const store = await openDeliveries();
        let redone: Delivery[];
        try {
          redone = await store.redeliver(
            {
              ...(flags.id !== undefined ? { id: flags.id } : {}),
              ...(flags.channel ? { channel: flags.channel } : {}),
              ...(flags.dead ? { dead: true } : {}),
              ...(flags.skipped ? { skipped: true } : {}),
            },
            new Date(),
          );
        } finally {
          await store.close();
        }
        if (flags.json) print(`${JSON.stringify({ redelivered: redone.length, deliveries: redone.map(summary) })}\n`);
        else
          print(
            `${redone.length} delivery(ies) queued again${redone.length > 0 ? `: ${redone.map((d) => d.id).join(', ')}` : ''}\n`,
          );
        if (redone.length === 0) process.exitCode = 1;
      },
    );

  webhooks
    .command('enable')
    .description("turn a channel's endpoint back on after a 410 Gone; its waiting deliveries are sent again")
    .addOption(channelOption('the channel').makeOptionMandatory())
    .option('--json', 'print { channel, wasDisabled, waiting } as JSON')
    .action(async (flags: { channel: Channel; json?: boolean }) => {
      const store = await openDeliveries();
      try {
        const r = await store.enable(flags.channel, new Date());
        if (flags.json) print(`${JSON.stringify({ channel: flags.channel, ...r })}\n`);
        else if (r.wasDisabled)
          print(`${flags.channel}: endpoint enabled; ${r.waiting} waiting delivery(ies) due now\n`);
        else print(`${flags.channel}: endpoint was not disabled\n`);
      } finally {
        await store.close();
      }
    });

  webhooks
    .command('endpoints')
    .description("each channel's callback URL, whether it is disabled, and where its signing secrets come from")
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const catalogue = createChannelCatalogue(process.env);
      const store = await openDeliveries();
      try {
        const rows = [];
        for (const channel of CHANNELS) {
          const policy = catalogue.policy(channel);
          const state = await store.endpoint(channel);
          rows.push({
            channel,
            callbackUrl: policy.callbackUrl,
            disabledAt: state.disabledAt,
            disabledReason: state.disabledReason,
            secrets: process.env[policy.callbackSecretsEnv] ? `env ${policy.callbackSecretsEnv}` : 'embedded file',
          });
        }
        if (flags.json) {
          print(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        print(
          table(
            ['channel', 'callback url', 'disabled at', 'secrets'],
            rows.map((r) => [r.channel, r.callbackUrl ?? '(none: skipped)', r.disabledAt ?? '-', r.secrets]),
          ),
        );
      } finally {
        await store.close();
      }
    });

  webhooks
    .command('secret')
    .description("print a channel's embedded signing secret (whsec_…), for the channel's receiver to verify with")
    .addOption(channelOption('the channel').makeOptionMandatory())
    .option('--json', 'print { channel, secrets } as JSON (newest first)')
    .action((flags: { channel: Channel; json?: boolean }, cmd: Command) => {
      const catalogue = createChannelCatalogue(process.env);
      const variable = catalogue.policy(flags.channel).callbackSecretsEnv;
      if (process.env[variable]) {
        cmd.error(
          `loanhub: ${flags.channel}'s secrets come from ${variable}, which this command does not print; ` +
            'read them where that variable is managed',
          { exitCode: 1, code: 'loanhub.not_embedded' },
        );
      }
      const { dataDir } = loadConfig();
      const secrets = ensureEmbeddedSecrets(dataDir)[flags.channel] ?? [];
      if (secrets.length === 0) {
        cmd.error(`loanhub: no secret for ${flags.channel} in ${embeddedSecretsFile(dataDir)}`, {
          exitCode: 1,
          code: 'loanhub.not_found',
        });
      }
      if (flags.json) print(`${JSON.stringify({ channel: flags.channel, secrets })}\n`);
      else print(`${secrets.join('\n')}\n`);
    });

  webhooks
    .command('receive')
    .description(
      "run the example receiver (webhooks/example-receiver.ts) with a channel's secrets; prints each verified event",
    )
    .addOption(channelOption('whose secrets verify the signatures').makeOptionMandatory())
    .option('--port <port>', 'port on 127.0.0.1 (default 9999; 0 picks a free one)', asPort)
    .action(async (flags: { channel: Channel; port?: number }, cmd: Command) => {
      const catalogue = createChannelCatalogue(process.env);
      const variable = catalogue.policy(flags.channel).callbackSecretsEnv;
      const fromEnv = process.env[variable];
      const secrets = fromEnv
        ? fromEnv.split(',').map((x) => x.trim())
        : (ensureEmbeddedSecrets(loadConfig().dataDir)[flags.channel] ?? []);
      if (secrets.length === 0) cmd.error(`loanhub: no secret for ${flags.channel}`, { exitCode: 1 });
      const app = createExampleReceiver({
        secrets,
        onEvent: (e) =>
          print(`${JSON.stringify({ id: e.id, type: e.type, paymentId: e.data.paymentId, status: e.data.status })}\n`),
      });
      const server = await listenExampleReceiver(app, flags.port ?? 9999);
      const { port } = server.address() as { port: number };
      process.stderr.write(
        `receiving ${flags.channel} webhooks on http://127.0.0.1:${port}/hooks/loanhub ` +
          `(start the hub with LOANHUB_CHANNEL_${flags.channel.toUpperCase()}_CALLBACK_URL set to it); Ctrl-C stops\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
