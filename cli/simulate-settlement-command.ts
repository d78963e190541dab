import { InvalidArgumentError, Option, type Command } from 'commander';
import { writeSettlementFile } from '../bank/channels/settlement-simulator';
import { loadSettlementMappings } from '../channels/settlement/settlement-mapping';
import type { Channel } from '../domain/channel';
import { parseAmount } from '../domain/money';
import { parseChannel, parseIsoDate, withReconStore } from './settlement-command';

// `loanhub simulate settlement --channel X --date D --out FILE`: the channel's settlement file for a
// business date, from the payments the hub took from it, with drills that make it wrong on purpose.

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function count(value: string): number {
  if (!/^\d{1,4}$/.test(value)) throw new InvalidArgumentError('must be a whole number 0..9999');
  return Number(value);
}

interface Options {
  channel: Channel;
  date: string;
  out: string;
  omit?: string[];
  extra?: number;
  changeAmount?: string[];
  duplicate?: string[];
  nextDay?: string[];
  broken?: number;
}

export function registerSimulateSettlement(simulate: Command): void {
  simulate
    .command('settlement')
    .description("write a channel's settlement file for a business date from the payments the hub took from it")
    .addOption(
      new Option('--channel <channel>', 'the collecting channel').argParser(parseChannel).makeOptionMandatory(),
    )
    .addOption(new Option('--date <YYYY-MM-DD>', 'business date').argParser(parseIsoDate).makeOptionMandatory())
    .requiredOption('--out <file>', 'where to write it')
    .option('--omit <reference>', 'leave this channel reference out (repeatable)', collect)
    .option('--extra <n>', 'add n lines for payments the hub never saw', count)
    .option(
      '--change-amount <reference=amount>',
      'write another amount for a reference, e.g. AG004512-00000187=99.90 (repeatable)',
      collect,
    )
    .option('--duplicate <reference>', 'write the line of this reference twice (repeatable)', collect)
    .option('--next-day <reference>', "date this reference's line the next day (repeatable)", collect)
    .option('--broken <n>', 'add n unreadable lines at the end', count)
    .addHelpText('after', '\nEnvironment: LOANHUB_DATA_DIR (reads the payments from the hub store hub.db there).')
    .action(async (opts: Options) => {
      try {
        const mapping = loadSettlementMappings().get(opts.channel);
        if (!mapping) throw new Error(`no settlement layout for channel ${opts.channel}`);
        const changeAmount = new Map<string, bigint>();
        for (const pair of opts.changeAmount ?? []) {
          const [ref, amount] = pair.split('=');
          const parsed = parseAmount(amount ?? '', 10n ** 15n);
          if (!ref || !parsed.ok) throw new Error(`--change-amount ${pair}: expected REFERENCE=AMOUNT such as X=12.50`);
          changeAmount.set(ref, parsed.value);
        }
        const written = await withReconStore((recon) =>
          writeSettlementFile({
            mapping,
            businessDate: opts.date,
            payments: recon.collectedPayments(opts.channel, opts.date, 1000),
            out: opts.out,
            drills: {
              omit: opts.omit ?? [],
              extra: opts.extra ?? 0,
              changeAmount,
              duplicate: opts.duplicate ?? [],
              nextDay: opts.nextDay ?? [],
              broken: opts.broken ?? 0,
            },
          }),
        );
        process.stdout.write(`wrote ${opts.out}: ${written.lines} lines for ${opts.channel} ${opts.date}\n`);
        for (const r of written.extraReferences) process.stdout.write(`extra (unknown to the hub): ${r}\n`);
      } catch (err) {
        process.stderr.write(`loanhub simulate settlement: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
