import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openAtomicFile } from '../copybooks/atomic-file-writer';
import { getCodePage, type CodePage } from '../copybooks/code-page';
import { CopybookError, withContext } from '../copybooks/copybook-errors';
import { loadLayout, type Layout } from '../copybooks/copybook-layout';
import { registerCodePagesWithIconv } from '../copybooks/iconv-registration';
import { layoutRows, layoutTable } from '../copybooks/layout-report';
import { isBlankLine, splitLines } from '../copybooks/line-splitter';
import { createProgressMeter } from '../copybooks/progress-meter';
import { createCsvFormatter } from '../copybooks/record-csv';
import { createRecordDecoder } from '../copybooks/record-decoder';
import { createRecordEncoder } from '../copybooks/record-encoder';
import { createRecordJsonWriter } from '../copybooks/record-json-writer';
import { decodeJsonLines, decodeRecordBatches, type RecordFormat } from '../copybooks/record-stream';

// `loanhub copybook layout|decode|encode`. Exit codes: 0 ok; 1 some records failed or an error
// (copybook, file, I/O); 2 usage (bad options). Records go to stdout/--out, diagnostics to stderr.

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

interface CodecFlags {
  readonly codepage: string;
  readonly recfm: RecordFormat;
  readonly rdw: 'ibm' | 'data';
  readonly occurs: 'fixed' | 'packed';
  readonly sourceFormat: 'auto' | 'fixed' | 'free';
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

function codecOptions(): Option[] {
  return [
    new Option('--codepage <cp>', 'code page: 037, 1047, 500, 284, 1140, 1145, ascii, latin1').default('037'),
    new Option('--recfm <fmt>', 'record format: fb (fixed) or vb (4-byte RDW)').choices(['fb', 'vb']).default('fb'),
    new Option('--rdw <mode>', 'VB only: the RDW length counts itself (ibm) or only the data (data)')
      .choices(['ibm', 'data'])
      .default('ibm'),
    new Option('--occurs <mode>', 'OCCURS DEPENDING ON tables at their maximum (fixed) or packed to their count')
      .choices(['fixed', 'packed'])
      .default('fixed'),
    new Option('--source-format <fmt>', 'copybook source format').choices(['auto', 'fixed', 'free']).default('auto'),
  ];
}

function describe(err: unknown): string {
  if (err instanceof CopybookError) return err.describe();
  return err instanceof Error ? err.message : String(err);
}

/** Loads the copybook and code page; a failure is reported and becomes exit code 1 (or 2 for a bad --codepage). */
function prepare(cmd: Command, copybook: string, flags: CodecFlags): { layout: Layout; page: CodePage } | undefined {
  let page: CodePage;
  try {
    page = getCodePage(flags.codepage);
  } catch (err) {
    cmd.error(describe(err), { exitCode: EXIT_USAGE, code: 'loanhub.usage' });
  }
  try {
    return { layout: loadLayout(copybook, { format: flags.sourceFormat }), page };
  } catch (err) {
    process.stderr.write(`${describe(err)}\n`);
    process.exitCode = EXIT_FAILED;
    return undefined;
  }
}

/** Writes with back-pressure; rejects when the stream failed (for example EPIPE when piped into `head`). */
async function writeOut(out: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  const failure = (out as NodeJS.WritableStream & { errored?: Error | null }).errored;
  if (failure) throw failure;
  if (out.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    const onError = (err: Error): void => {
      out.off('drain', onDrain);
      reject(err);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

function isBrokenPipe(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EPIPE';
}

export function registerCopybookCommands(program: Command): void {
  registerCodePagesWithIconv();
  const copybook = program
    .command('copybook')
    .description('Read and write EBCDIC/ASCII fixed-width records laid out by a COBOL copybook');

  copybook
    .command('layout')
    .description(
      'Print every item (nested by level; --json adds each full path) with offsets (1-based), length, usage, digits/scale/sign, REDEFINES, OCCURS and 88 names',
    )
    .argument('<copybook>', 'copybook file (fixed or free format)')
    .option('--json', 'print the layout as JSON')
    .addOption(
      new Option('--source-format <fmt>', 'copybook source format').choices(['auto', 'fixed', 'free']).default('auto'),
    )
    .action((file: string, opts: { json?: boolean; sourceFormat: 'auto' | 'fixed' | 'free' }) => {
      try {
        const layout = loadLayout(file, { format: opts.sourceFormat });
        if (opts.json === true) {
          process.stdout.write(
            `${JSON.stringify({ source: basename(file), recordLength: layout.size, fields: layoutRows(layout) }, null, 2)}\n`,
          );
        } else {
          process.stdout.write(layoutTable(layout));
        }
      } catch (err) {
        process.stderr.write(`${describe(err)}\n`);
        process.exitCode = EXIT_FAILED;
      }
    });

  const decode = copybook
    .command('decode')
    .description('Stream records from a data file as JSON lines (or CSV); bad records are reported on stderr')
    .argument('<copybook>', 'copybook file')
    .argument('<data>', 'data file (FB or VB)');
  for (const o of codecOptions()) decode.addOption(o);
  decode
    .option('--lrecl <n>', 'FB record length (default: the copybook length)', positiveInt)
    .addOption(new Option('--format <fmt>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .addOption(
      new Option('--trim <mode>', 'text padding: pad (drop it) or none (keep every byte)')
        .choices(['pad', 'none'])
        .default('pad'),
    )
    .option('--strict', 'stop at the first bad record (exit 1)')
    .option('--out <file>', 'write records here instead of stdout')
    .action(
      async (
        cb: string,
        data: string,
        opts: CodecFlags & {
          lrecl?: number;
          format: 'jsonl' | 'csv';
          trim: 'pad' | 'none';
          strict?: boolean;
          out?: string;
        },
      ) => {
        const ready = prepare(decode, cb, opts);
        if (ready === undefined) return;
        const { layout, page } = ready;
        if (opts.lrecl !== undefined && opts.recfm === 'vb')
          decode.error('--lrecl applies only to --recfm fb', { exitCode: EXIT_USAGE, code: 'loanhub.usage' });
        let total: number | undefined;
        try {
          total = statSync(data).size;
        } catch (err) {
          process.stderr.write(`cannot read ${data}: ${describe(err)}\n`);
          process.exitCode = EXIT_FAILED;
          return;
        }
        const decoder = createRecordDecoder(layout, { codePage: page, occurs: opts.occurs, trim: opts.trim });
        const csv = opts.format === 'csv' ? createCsvFormatter(layout) : undefined;
        const out: NodeJS.WritableStream = opts.out === undefined ? process.stdout : createWriteStream(opts.out);
        // A reader that goes away (`| head`) is not a failure: decoding just stops.
        out.on('error', () => undefined);
        const progress = createProgressMeter(process.stderr, 'decode', total);
        let good = 0;
        let bad = 0;
        let seen = 0;
        let bytes = 0;
        let lines: string[] = [];
        try {
          if (csv !== undefined) await writeOut(out, `${csv.header}\n`);
          const source = createReadStream(data, { highWaterMark: 1 << 20 });
          const split = { recfm: opts.recfm, lrecl: opts.lrecl, rdw: opts.rdw, file: basename(data) };
          let stop = false;
          // JSON lines are written from the records' bytes (copybooks/record-json-writer.ts).
          if (csv === undefined) {
            const writer = createRecordJsonWriter(layout, { codePage: page, occurs: opts.occurs, trim: opts.trim });
            for await (const batch of decodeJsonLines(source, decoder, writer, split)) {
              seen = batch.seen;
              bytes = batch.bytes;
              good += batch.good;
              if (batch.text.length > 0) await writeOut(out, batch.text);
              if (batch.failed !== undefined) {
                bad++;
                process.stderr.write(`${batch.failed.error.describe()}\n`);
                if (opts.strict === true || batch.failed.fatal) stop = true;
              }
              progress.tick(seen, bytes);
              if (stop) break;
            }
          } else {
            for await (const batch of decodeRecordBatches(source, decoder, split)) {
              for (const r of batch) {
                seen++;
                bytes = r.offset + r.length;
                if (r.ok) {
                  good++;
                  lines.push(csv.row(r.value));
                } else {
                  bad++;
                  process.stderr.write(`${r.error.describe()}\n`);
                  if (opts.strict === true || r.fatal) {
                    stop = true;
                    break;
                  }
                }
              }
              if (lines.length > 0) {
                await writeOut(out, `${lines.join('\n')}\n`);
                lines = [];
              }
              progress.tick(seen, bytes);
              if (stop) break;
            }
            if (lines.length > 0) await writeOut(out, `${lines.join('\n')}\n`);
          }
        } catch (err) {
          if (!isBrokenPipe(err)) {
            process.stderr.write(`${describe(err)}\n`);
            bad++;
          }
        } finally {
          progress.tick(seen, bytes);
          progress.done();
          if (out !== process.stdout) await new Promise<void>((resolve) => out.end(() => resolve()));
        }
        process.stderr.write(bad === 0 ? '' : `${good} records decoded, ${bad} failed\n`);
        if (bad > 0) process.exitCode = EXIT_FAILED;
      },
    );

  const encode = copybook
    .command('encode')
    .description(
      'Encode JSON lines into records, written atomically (temp file, then rename); nothing is left on error',
    )
    .argument('<copybook>', 'copybook file')
    .argument('<jsonl>', 'input: one JSON object per line, shaped as decode prints them');
  for (const o of codecOptions()) encode.addOption(o);
  encode
    .requiredOption('--out <data>', 'output data file')
    .addOption(
      new Option('--defaults <mode>', 'missing fields: none (error) or blank (VALUE clause, spaces, zeros)')
        .choices(['none', 'blank'])
        .default('none'),
    )
    .action(async (cb: string, input: string, opts: CodecFlags & { out: string; defaults: 'none' | 'blank' }) => {
      const ready = prepare(encode, cb, opts);
      if (ready === undefined) return;
      const { layout, page } = ready;
      const encoder = createRecordEncoder(layout, { codePage: page, occurs: opts.occurs, defaults: opts.defaults });
      let total: number | undefined;
      try {
        total = statSync(input).size;
      } catch (err) {
        process.stderr.write(`cannot read ${input}: ${describe(err)}\n`);
        process.exitCode = EXIT_FAILED;
        return;
      }
      const progress = createProgressMeter(process.stderr, 'encode', total);
      let writer: Awaited<ReturnType<typeof openAtomicFile>> | undefined;
      let bad = 0;
      let index = 0;
      let inBytes = 0;
      const head = opts.recfm === 'vb' ? 4 : 0;
      try {
        writer = await openAtomicFile(opts.out);
        // Lines as byte ranges: a line in the shape decode prints is encoded from its bytes.
        for await (const { buf, ranges } of splitLines(createReadStream(input, { highWaterMark: 1 << 20 }))) {
          for (let k = 0; k < ranges.length; k += 2) {
            const start = ranges[k] as number;
            const end = ranges[k + 1] as number;
            inBytes += end - start + 1;
            if (isBlankLine(buf, start, end)) continue;
            index++;
            try {
              if (bad > 0) {
                // Keep validating every line, but stop writing once one failed.
                encoder.encodeLine(buf, start, end);
                continue;
              }
              // The record is encoded straight into the writer's buffer (after the RDW's 4 bytes
              // for VB) and counted only when it was written whole.
              const room = writer.reserve(head + layout.size);
              if (room !== undefined) await room;
              const out = writer.buffer;
              const at = writer.position;
              const n = encoder.encodeLineInto(buf, start, end, out, at + head);
              if (head > 0) {
                const ll = n + (opts.rdw === 'ibm' ? 4 : 0);
                if (ll > 0xffff)
                  throw new CopybookError('OUTPUT_FAILED', `record of ${n} bytes is too long for an RDW`);
                out[at] = ll >>> 8;
                out[at + 1] = ll & 0xff;
                out[at + 2] = 0;
                out[at + 3] = 0;
              }
              writer.advance(head + n);
            } catch (err) {
              if (!(err instanceof CopybookError)) throw err;
              bad++;
              process.stderr.write(`${withContext(err, { file: basename(input), record: index }).describe()}\n`);
            }
            if ((index & 1023) === 0) progress.tick(index, inBytes);
          }
        }
        progress.tick(index, inBytes);
        progress.done();
        if (bad > 0) {
          await writer.abort();
          process.stderr.write(`${bad} of ${index} records failed; ${opts.out} was not written\n`);
          process.exitCode = EXIT_FAILED;
          return;
        }
        await writer.commit();
      } catch (err) {
        progress.done();
        if (writer !== undefined) await writer.abort();
        process.stderr.write(`${describe(err)}\n`);
        process.exitCode = EXIT_FAILED;
      }
    });
}
