import fs from 'node:fs';
import path from 'node:path';
import type { SettlementMapping } from '../channels/settlement/settlement-mapping';
import type { Channel } from '../domain/channel';
import type { NewSettlementLine, ReconStore, SettlementFileRecord } from '../store/recon-store-port';
import { describeProblem, fileSha256, readSettlementFile, type SettlementProblem } from './settlement-file-reader';

// `loanhub settlement import`: a channel's settlement file into the store. The same bytes twice are
// recognised by their SHA-256 and not counted again; bad lines are reported with their line number and
// the file is kept with its good lines, unless strict (then nothing is kept). A later file of the same
// channel and date replaces the earlier one (a corrected file).

export type ImportOutcome =
  | {
      readonly kind: 'imported';
      readonly file: SettlementFileRecord;
      /** The first PROBLEMS_KEPT problems; `problemCount` counts them all. */
      readonly problems: readonly SettlementProblem[];
      readonly problemCount: number;
    }
  | { readonly kind: 'duplicate'; readonly file: SettlementFileRecord }
  | {
      readonly kind: 'refused';
      readonly problems: readonly SettlementProblem[];
      readonly problemCount: number;
      readonly lines: number;
    };

const BATCH = 1000;
/** Problems kept in the outcome and with the file; past that only counted (a garbage file stays small). */
export const PROBLEMS_KEPT = 1000;

export async function importSettlementFile(opts: {
  readonly store: ReconStore;
  readonly channel: Channel;
  readonly mapping: SettlementMapping;
  readonly file: string;
  /** The business date the file settles; by default the date most of its good lines carry. */
  readonly businessDate?: string;
  readonly strict?: boolean;
  readonly now: () => Date;
  /** Called as lines are read (a progress bar on a terminal). */
  readonly progress?: (lines: number) => void;
}): Promise<ImportOutcome> {
  const sha256 = await fileSha256(opts.file);
  const existing = await opts.store.findSettlementFile(opts.channel, sha256);
  if (existing) return { kind: 'duplicate', file: existing };
  const name = path.basename(opts.file);
  const problems: SettlementProblem[] = [];
  let problemCount = 0;
  const businessDate = opts.businessDate ?? (await dominantDate(opts.file, name, opts.mapping));
  const fileId = await opts.store.beginSettlementFile({
    channel: opts.channel,
    businessDate: businessDate ?? '0000-00-00',
    fileName: name,
    sha256,
    sizeBytes: fs.statSync(opts.file).size,
    at: opts.now().toISOString(),
  });
  try {
    let batch: NewSettlementLine[] = [];
    const summary = await readSettlementFile({
      path: opts.file,
      name,
      mapping: opts.mapping,
      onProblem: (p) => {
        problemCount += 1;
        if (problems.length < PROBLEMS_KEPT) problems.push(p);
      },
      onLine: async (line) => {
        opts.progress?.(line.line);
        batch.push(line);
        if (batch.length >= BATCH) {
          const full = batch;
          batch = [];
          await opts.store.addSettlementLines(fileId, full);
        }
      },
    });
    if (batch.length > 0) await opts.store.addSettlementLines(fileId, batch);
    if ((opts.strict && problemCount > 0) || businessDate === undefined) {
      await opts.store.discardSettlementFile(fileId);
      return { kind: 'refused', problems, problemCount, lines: summary.lines };
    }
    const file = await opts.store.finishSettlementFile(fileId, {
      lines: summary.lines,
      goodLines: summary.good,
      badLines: summary.bad,
      problems: [
        ...problems.map(describeProblem),
        ...(problemCount > problems.length ? [`… and ${problemCount - problems.length} more problems`] : []),
      ],
    });
    return { kind: 'imported', file, problems, problemCount };
  } catch (err) {
    await opts.store.discardSettlementFile(fileId);
    throw err;
  }
}

/** The business date most good lines carry (a channel's file is for one date; a late line may carry the next). */
async function dominantDate(file: string, name: string, mapping: SettlementMapping): Promise<string | undefined> {
  const counts = new Map<string, number>();
  await readSettlementFile({
    path: file,
    name,
    mapping,
    onProblem: () => undefined,
    onLine: (l) => {
      counts.set(l.businessDate, (counts.get(l.businessDate) ?? 0) + 1);
    },
  });
  let best: [string, number] | undefined;
  for (const e of counts) if (!best || e[1] > best[1] || (e[1] === best[1] && e[0] < best[0])) best = e;
  return best?.[0];
}
