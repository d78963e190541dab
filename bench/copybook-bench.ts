import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { openAtomicFile } from '../copybooks/atomic-file-writer';
import { getCodePage } from '../copybooks/code-page';
import { loadLayout } from '../copybooks/copybook-layout';
import { splitLines } from '../copybooks/line-splitter';
import { createRecordDecoder, type DecodedRecord } from '../copybooks/record-decoder';
import { createRecordEncoder } from '../copybooks/record-encoder';
import { createRecordJsonWriter } from '../copybooks/record-json-writer';
import { decodeJsonLines, decodeRecordBatches } from '../copybooks/record-stream';
import { decodeText } from '../copybooks/text-transcoder';

// Copybook codec benchmark (not a test): 1,000,000 records of the 200-byte loan-payment copybook,
// decoded from a file with the streaming reader and encoded to a file with the atomic writer,
// next to a plain 256-byte table translation of the same file. Prints records/s, MB/s and peak RSS.
//
//   npx tsc -p tsconfig.build.json && node dist/bench/copybook-bench.js [--records N] [--runs N]

const args = process.argv.slice(2);
const recordsArg = args.indexOf('--records');
const RECORDS = recordsArg >= 0 ? Number(args[recordsArg + 1]) : 1_000_000;
const runsArg = args.indexOf('--runs');
// Every phase runs RUNS times and the fastest run of each is reported: the build machine is
// shared, and the best of a few runs is the figure least disturbed by other work.
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;
const root = join(__dirname, '..', '..');
const copybookPath = [
  join(root, 'test', 'fixtures', 'copybooks', 'loan-payment-record.cpy'),
  join(__dirname, '..', 'test', 'fixtures', 'copybooks', 'loan-payment-record.cpy'),
].find((p) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
});
if (copybookPath === undefined) throw new Error('loan-payment-record.cpy not found');

let peakRss = process.memoryUsage().rss;
let phasePeak = peakRss;
const sampler = setInterval(() => {
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  phasePeak = Math.max(phasePeak, rss);
}, 20);

interface Row {
  readonly name: string;
  readonly seconds: number;
  /** This process's user + system CPU time for the phase (beside wall time: shows a busy machine). */
  readonly cpuSeconds: number;
  readonly records: number;
  readonly bytes: number;
  readonly peakRss: number;
}

let phaseCpu = process.cpuUsage();

/** A phase's start: wall clock returned, CPU usage kept for row(). */
function start(): bigint {
  phaseCpu = process.cpuUsage();
  return process.hrtime.bigint();
}

function row(name: string, started: bigint, records: number, bytes: number, rssBefore: number): Row {
  const cpu = process.cpuUsage(phaseCpu);
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  const r = {
    name,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    records,
    bytes,
    peakRss: Math.max(phasePeak, rss, rssBefore),
  };
  phasePeak = rss;
  return r;
}

/** Deterministic sample values (a small LCG), so every run decodes the same file. */
function sampleRecords(n: number): DecodedRecord[] {
  let seed = 42;
  const next = (m: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % m;
  };
  const digits = (k: number): string => Array.from({ length: k }, () => String(next(10))).join('');
  const money = (intDigits: number): string =>
    `${next(2) === 0 ? '-' : ''}${String(BigInt(digits(intDigits)))}.${digits(2)}`;
  const names = ['Ana Núñez', "O'Brien & Sons Ltd.", 'Zoë Müller', 'Kwame Mensah', 'Li Wei', 'Søren Ødegård'];
  return Array.from({ length: n }, (_, i) => {
    const y = String(2000 + next(30));
    const m = String(1 + next(12)).padStart(2, '0');
    const d = String(1 + next(28)).padStart(2, '0');
    return {
      'RECORD-TYPE': next(10) === 0 ? 'PR' : 'PD',
      'PAYMENT-ID': `${digits(8)}-${digits(4)}-${digits(4)}-${digits(4)}-${digits(12)}`,
      'LOAN-ACCOUNT': `LN-${digits(4)}-${digits(4)}`,
      'CUSTOMER-NAME': names[i % names.length] ?? '',
      'PAYMENT-DATE': `${y}${m}${d}`,
      'PAYMENT-DATE-PARTS': { 'PAY-YYYY': y, 'PAY-MM': String(Number(m)), 'PAY-DD': String(Number(d)) },
      'VALUE-DATE': `${y}${m}${d}`,
      AMOUNT: money(11),
      PRINCIPAL: money(11),
      INTEREST: money(6),
      FEES: money(5),
      ADJUSTMENT: money(4),
      CURRENCY: ['USD', 'EUR', 'GBP'][next(3)] ?? 'USD',
      CHANNEL: ['MOBILE', 'BRANCH', 'API', 'ATM'][next(4)] ?? 'API',
      'SEQUENCE-NO': String(i + 1),
      'INSTALMENT-NO': String(next(360)),
      RATE: `0.${digits(7)}`,
      BRANCH: String(next(99999)),
      STATUS: 'ABCD'[next(4)] ?? 'A',
    };
  });
}

/** The baseline: one table lookup per byte, in its own small function so V8 optimises it fully. */
function translate(table: Uint8Array, input: Buffer, out: Buffer): number {
  const n = input.length;
  for (let i = 0; i < n; i++) out[i] = table[input[i] as number] as number;
  return out[n - 1] as number;
}

async function main(): Promise<void> {
  const layout = loadLayout(copybookPath as string);
  const page = getCodePage('037');
  const dir = mkdtempSync(join(tmpdir(), 'copybook-bench-'));
  const dataFile = join(dir, 'payments.dat');
  const rows: Row[] = [];
  const keep = (r: Row): void => {
    const i = rows.findIndex((x) => x.name === r.name);
    if (i < 0) rows.push(r);
    else if (r.seconds < (rows[i]?.seconds ?? 0)) rows[i] = r;
  };
  try {
    // The records as `copybook encode` gets them: parsed from JSON lines. (Built here with template
    // strings they would be V8 ropes, which the encoder reads more slowly, character by character.)
    const samples = JSON.parse(JSON.stringify(sampleRecords(1000))) as DecodedRecord[];
    const encoder = createRecordEncoder(layout, { codePage: page });
    const decoder = createRecordDecoder(layout, { codePage: page });
    // The same records as JSON lines, what `copybook encode` reads: 1,000 lines repeated.
    const jsonl = Buffer.from(`${samples.map((r) => JSON.stringify(r)).join('\n')}\n`, 'utf8');
    const repeats = Math.ceil(RECORDS / samples.length);
    const jsonlSource = (): Readable =>
      Readable.from(
        (function* lines(): Generator<Buffer> {
          for (let i = 0; i < repeats; i++) yield jsonl;
        })(),
      );
    // Both line paths give the same bytes (the tests check it on every kind of line).
    for (const r of samples) {
      const line = Buffer.from(JSON.stringify(r), 'utf8');
      const viaBytes = Buffer.from(encoder.encodeLine(line, 0, line.length));
      if (!viaBytes.equals(encoder.encode(JSON.parse(line.toString('utf8'))))) throw new Error('encodeLine differs');
      const into = Buffer.alloc(layout.size + 3);
      encoder.encodeLineInto(line, 0, line.length, into, 3);
      if (!viaBytes.equals(into.subarray(3))) throw new Error('encodeLineInto differs');
      encoder.encodeInto(r, into, 1);
      if (!viaBytes.equals(into.subarray(1, 1 + layout.size))) throw new Error('encodeInto differs');
    }
    for (let run = 0; run < RUNS; run++) {
      // Encode JSON lines as `copybook encode` did before: readline strings, JSON.parse, encode.
      {
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        const w = await openAtomicFile(dataFile);
        let n = 0;
        for await (const line of createInterface({ input: jsonlSource(), crlfDelay: Infinity })) {
          if (line.trim() === '') continue;
          const pending = w.write(encoder.encode(JSON.parse(line)));
          if (pending !== undefined) await pending;
          n++;
        }
        await w.commit();
        keep(row('encode JSON lines -> file: readline + JSON.parse + encode (before)', t, n, n * layout.size, rss));
      }
      // Encode JSON lines from their bytes, as `copybook encode` does now (encoder.encodeLine).
      {
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        const w = await openAtomicFile(dataFile);
        let n = 0;
        for await (const { buf, ranges } of splitLines(jsonlSource())) {
          for (let k = 0; k < ranges.length; k += 2) {
            const start = ranges[k] as number;
            const end = ranges[k + 1] as number;
            if (start === end) continue;
            const room = w.reserve(layout.size);
            if (room !== undefined) await room;
            w.advance(encoder.encodeLineInto(buf, start, end, w.buffer, w.position));
            n++;
          }
        }
        await w.commit();
        keep(row('encode JSON lines -> file: from the line bytes (copybook encode now)', t, n, n * layout.size, rss));
      }

      // Encode: JSON-shaped records -> bytes -> file (temp + rename), as issue 4 measured it:
      // encode() into the encoder's buffer, then copied into the writer's.
      {
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        const w = await openAtomicFile(dataFile);
        for (let i = 0; i < RECORDS; i++) {
          const pending = w.write(encoder.encode(samples[i % samples.length]));
          if (pending !== undefined) await pending;
        }
        await w.commit();
        keep(row('encode (records -> file): encode + write (before)', t, RECORDS, RECORDS * layout.size, rss));
      }
      // The same through the writer's reserve/advance (encodeInto into its buffer, as the CLI does now).
      {
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        const w = await openAtomicFile(dataFile);
        for (let i = 0; i < RECORDS; i++) {
          const room = w.reserve(layout.size);
          if (room !== undefined) await room;
          w.advance(encoder.encodeInto(samples[i % samples.length], w.buffer, w.position));
        }
        await w.commit();
        keep(row('encode (records -> file)', t, RECORDS, RECORDS * layout.size, rss));
      }
      const size = statSync(dataFile).size;
      if (size !== RECORDS * layout.size) throw new Error(`file is ${size} bytes`);

      // Baseline: the same file streamed through a plain 256-entry table (EBCDIC -> Latin-1 bytes).
      {
        const table = new Uint8Array(256);
        for (let b = 0; b < 256; b++) table[b] = (page.toUnicode[b] ?? 0) & 0xff;
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        let bytes = 0;
        let check = 0;
        const out = Buffer.allocUnsafe(1 << 20);
        for await (const chunk of createReadStream(dataFile, { highWaterMark: 1 << 20 })) {
          const c = chunk as Buffer;
          check ^= translate(table, c, out);
          bytes += c.length;
        }
        keep(row(`table translation (256-byte table)${check < 0 ? '!' : ''}`, t, bytes / layout.size, bytes, rss));
      }

      // Second baseline: each record translated to one JS string through the same table (what an
      // iconv-style decoder does; it produces strings, as the codec does, but no fields or values).
      {
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        let n = 0;
        let chars = 0;
        for await (const chunk of createReadStream(dataFile, { highWaterMark: 1 << 20 })) {
          const c = chunk as Buffer;
          for (let p = 0; p + layout.size <= c.length; p += layout.size) {
            chars += decodeText(page, c, p, p + layout.size).length;
            n++;
          }
        }
        keep(row(`table translation to a string per record${chars < 0 ? '!' : ''}`, t, n, n * layout.size, rss));
      }

      // Decode: file -> records (typed values, nested objects), the `copybook decode` path minus output.
      {
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        let n = 0;
        let bad = 0;
        for await (const batch of decodeRecordBatches(createReadStream(dataFile, { highWaterMark: 1 << 20 }), decoder, {
          recfm: 'fb',
        })) {
          for (const r of batch) {
            if (r.ok) n++;
            else bad++;
          }
        }
        if (bad > 0) throw new Error(`${bad} records failed to decode`);
        keep(row('decode (file -> records)', t, n, n * layout.size, rss));
      }

      // Decode and serialise as JSON lines (what the CLI writes), for reference.
      {
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        let n = 0;
        let chars = 0;
        for await (const batch of decodeRecordBatches(createReadStream(dataFile, { highWaterMark: 1 << 20 }), decoder, {
          recfm: 'fb',
        })) {
          for (const r of batch) {
            if (r.ok) {
              chars += JSON.stringify(r.value).length;
              n++;
            }
          }
        }
        keep(row(`decode + JSON.stringify (${(chars / n).toFixed(0)} chars/record)`, t, n, n * layout.size, rss));
      }

      // JSON lines written straight from the bytes (what `copybook decode` writes since the JSON
      // line writer; the row above is the path it replaced, kept as the before figure).
      {
        const writer = createRecordJsonWriter(layout, { codePage: page });
        if (writer === undefined) throw new Error('no JSON line writer for the bench copybook');
        const rss = process.memoryUsage().rss;
        phasePeak = rss;
        const t = start();
        let n = 0;
        let out = 0;
        for await (const batch of decodeJsonLines(
          createReadStream(dataFile, { highWaterMark: 1 << 20 }),
          decoder,
          writer,
          {
            recfm: 'fb',
          },
        )) {
          if (batch.failed !== undefined) throw new Error(batch.failed.error.describe());
          n += batch.good;
          out += batch.text.length;
        }
        keep(
          row(
            `decode -> JSON lines, written from the bytes (${(out / n).toFixed(0)} bytes/record)`,
            t,
            n,
            n * layout.size,
            rss,
          ),
        );
      }
    }

    // Byte-exactness check on the way: a decoded record re-encodes to the bytes it came from.
    const first = readFileSync(dataFile).subarray(0, layout.size);
    if (!Buffer.from(encoder.encode(decoder.decode(first))).equals(first)) throw new Error('round trip changed bytes');
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }

  const base = rows.find((r) => r.name.startsWith('table translation'));
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  process.stdout.write(
    `copybook benchmark: ${fmt(RECORDS)} records x ${layout.size} bytes (${((RECORDS * layout.size) / 1e6).toFixed(0)} MB), code page 037, Node ${process.version}, best of ${RUNS} runs\n\n`,
  );
  process.stdout.write(
    '| run | records/s | MB/s | vs table | seconds | CPU s | peak RSS MB |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n',
  );
  for (const r of rows) {
    const mbs = r.bytes / 1e6 / r.seconds;
    const ratio =
      base === undefined ? '' : `${((r.records / r.seconds / (base.records / base.seconds)) * 100).toFixed(0)}%`;
    process.stdout.write(
      `| ${r.name} | ${fmt(r.records / r.seconds)} | ${mbs.toFixed(1)} | ${ratio} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${(r.peakRss / 1e6).toFixed(0)} |\n`,
    );
  }
  process.stdout.write(`\npeak RSS over the whole run: ${(peakRss / 1e6).toFixed(0)} MB\n`);
}

main().catch((err: unknown) => {
  clearInterval(sampler);
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
