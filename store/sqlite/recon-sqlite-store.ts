import crypto from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Channel, Core } from '../../domain/channel';
import { isCurrency } from '../../domain/money';
import {
  BREAK_TYPES,
  type BreakFilter,
  type CoreExtractLine,
  type NewSettlementLine,
  type ReconBreak,
  type ReconRun,
  type ReconStore,
  type RunOptions,
  type Totals,
} from '../recon-store-port';
import { reconStatements, SQLITE_RECON } from '../recon-matching-sql';
import {
  asBreakStatus,
  asBreakType,
  toBreak,
  toFile,
  toRun,
  toTotals,
  type BreakRow,
  type RunRow,
  type SettlementFileRow,
  type TotalsRow,
} from '../recon-rows';

// Reconciliation's tables in the hub's SQLite file, on the store's own connection (better-sqlite3 is
// synchronous: each method body is one transaction). A run is one transaction: temp tables, matching
// joins, the merge of breaks and the totals.

/** A break's id: the same date and key give the same id on every run (and on every database). */
export function breakId(businessDate: string, key: string): string {
  const hash = crypto.createHash('sha256').update(`${businessDate}|${key}`).digest('hex');
  return `BRK-${businessDate.replaceAll('-', '')}-${hash.slice(0, 10).toUpperCase()}`;
}

export function createSqliteReconStore(db: Database.Database): ReconStore {
  db.function('recon_break_id', { deterministic: true }, (d: unknown, key: unknown) => breakId(String(d), String(key)));

  const findFile = db.prepare(
    "SELECT * FROM recon_settlement_files WHERE channel = ? AND sha256 = ? AND state = 'IMPORTED'",
  );
  const fileById = db.prepare('SELECT * FROM recon_settlement_files WHERE id = ?');
  const dropLoading = db.prepare(
    "DELETE FROM recon_settlement_files WHERE channel = ? AND sha256 = ? AND state = 'LOADING'",
  );
  const insertFile = db.prepare(`INSERT INTO recon_settlement_files (channel, business_date, file_name, sha256,
    size_bytes, state, imported_at) VALUES (?, ?, ?, ?, ?, 'LOADING', ?)`);
  const insertLine = db.prepare(`INSERT INTO recon_settlement_lines (file_id, line, business_date, channel,
    channel_reference, loan_number, currency, amount_minor, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const fileChannel = db.prepare('SELECT channel FROM recon_settlement_files WHERE id = ?');
  const finishFile = db.prepare(`UPDATE recon_settlement_files SET state = 'IMPORTED', lines = ?, good_lines = ?,
    bad_lines = ?, problems = ? WHERE id = ?`);
  const supersedeFiles = db.prepare(`UPDATE recon_settlement_files SET superseded_by = @id WHERE channel = @channel
    AND business_date = @date AND state = 'IMPORTED' AND superseded_by IS NULL AND id <> @id`);
  const deleteLines = db.prepare('DELETE FROM recon_settlement_lines WHERE file_id = ?');
  const deleteFile = db.prepare("DELETE FROM recon_settlement_files WHERE id = ? AND state = 'LOADING'");
  const collectedPage = db.prepare(`SELECT id, channel_reference, loan_number, currency, amount_minor, created_at
    FROM payments WHERE channel = @channel AND business_date = @d
      AND status NOT IN ('REJECTED', 'REVERSED', 'REVERSAL_PENDING') AND (created_at, id) > (@at, @id)
    ORDER BY created_at, id LIMIT @limit`);
  const filesOfDate = db.prepare(
    'SELECT * FROM recon_settlement_files WHERE business_date = ? AND state = ? ORDER BY id',
  );

  const insertExtract = db.prepare(`INSERT INTO recon_core_extracts (core, business_date, state, format, evidence,
    loaded_at) VALUES (?, ?, 'LOADING', ?, ?, ?)`);
  const extractSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM recon_core_rows WHERE extract_id = ?');
  const insertCoreRow = db.prepare(`INSERT INTO recon_core_rows (extract_id, seq, payment_id, kind, loan_number,
    currency, amount_minor, core_reference, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const extractById = db.prepare('SELECT core, business_date FROM recon_core_extracts WHERE id = ?');
  const finishExtract = db.prepare("UPDATE recon_core_extracts SET state = 'LOADED', rows = ? WHERE id = ?");
  const supersedeExtracts = db.prepare(`UPDATE recon_core_extracts SET superseded_by = @id WHERE core = @core
    AND business_date = @date AND state = 'LOADED' AND superseded_by IS NULL AND id <> @id`);

  const insertRun = db.prepare(`INSERT INTO recon_runs (business_date, started_at, finished_at, status, open_breaks,
    new_breaks, closed_breaks, sources) VALUES (?, ?, ?, 'UNBALANCED', 0, 0, 0, '{}')`);
  const countOpen = db.prepare(
    "SELECT COUNT(*) AS n FROM recon_breaks WHERE business_date = ? AND status = 'open' AND severity <> 'info'",
  );
  const finishRun = db.prepare(`UPDATE recon_runs SET finished_at = ?, status = ?, open_breaks = ?, new_breaks = ?,
    closed_breaks = ?, sources = ? WHERE id = ?`);
  const runById = db.prepare('SELECT * FROM recon_runs WHERE id = ?');
  const latestRun = db.prepare('SELECT * FROM recon_runs WHERE business_date = ? ORDER BY id DESC LIMIT 1');
  const runsBetween = db.prepare(`SELECT r.* FROM recon_runs r WHERE r.id IN (SELECT MAX(id) FROM recon_runs
    WHERE business_date BETWEEN ? AND ? GROUP BY business_date) ORDER BY r.business_date`);
  const totalsOfRun = db.prepare(
    'SELECT * FROM recon_totals WHERE run_id = ? ORDER BY source, channel, core, currency',
  );
  const breakById = db.prepare('SELECT * FROM recon_breaks WHERE id = ?');
  const breakPage = db.prepare(`SELECT * FROM recon_breaks WHERE id > @after
    AND (@date IS NULL OR business_date = @date) AND (@status IS NULL OR status = @status)
    AND (@type IS NULL OR type = @type) ORDER BY id LIMIT @limit`);
  const counts = db.prepare(
    'SELECT type, status, COUNT(*) AS n FROM recon_breaks WHERE business_date = ? GROUP BY type, status ORDER BY type, status',
  );
  const resolve = db.prepare(`UPDATE recon_breaks SET resolved_note = ?, resolved_by = ?, resolved_at = ?,
    status = CASE status WHEN 'open' THEN 'resolved' ELSE status END WHERE id = ?`);

  /** Named parameters a statement uses, from those of the run (better-sqlite3 refuses unused ones). */
  const used = (sql: string, params: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(params).filter(([k]) => new RegExp(`@${k}\\b`).test(sql)));

  const run = db.transaction((o: RunOptions): ReconRun => {
    const sql = reconStatements(SQLITE_RECON, o.businessDate);
    const runId = Number(insertRun.run(o.businessDate, o.at, o.at).lastInsertRowid);
    const params = {
      d: o.businessDate,
      cores: JSON.stringify(o.expectedCores),
      channels: JSON.stringify(o.expectedChannels),
      run: runId,
      at: o.at,
      reason: `no longer found by run ${runId}: the sources agree now`,
    };
    const exec = (text: string): Database.RunResult => db.prepare(text).run(used(text, params));
    for (const text of sql.prepare) exec(text);
    for (const type of BREAK_TYPES) exec(sql.find[type]);
    const fresh = Number((db.prepare(sql.countNew).get(used(sql.countNew, params)) as { n: bigint }).n);
    exec(sql.merge);
    const closed = Number(exec(sql.closeGone).changes);
    exec(sql.totals);
    const open = Number((countOpen.get(o.businessDate) as { n: bigint }).n);
    const loaded = db.prepare('SELECT kind, name FROM loaded ORDER BY kind, name').all() as {
      kind: string;
      name: string;
    }[];
    const sources = {
      cores: loaded.filter((l) => l.kind === 'core').map((l) => l.name),
      channels: loaded.filter((l) => l.kind === 'channel').map((l) => l.name),
    };
    finishRun.run(o.at, open === 0 ? 'BALANCED' : 'UNBALANCED', open, fresh, closed, JSON.stringify(sources), runId);
    for (const text of sql.drop) db.exec(text);
    return toRun(runById.get(runId) as RunRow);
  });

  const store: ReconStore = {
    findSettlementFile: async (channel: Channel, sha256: string) => {
      const row = findFile.get(channel, sha256) as SettlementFileRow | undefined;
      return row ? toFile(row) : null;
    },
    beginSettlementFile: async (input: {
      channel: Channel;
      businessDate: string;
      fileName: string;
      sha256: string;
      sizeBytes: number;
      at: string;
    }) =>
      db.transaction(() => {
        // A load that died half-way left its rows behind: they count for nothing, and go now.
        dropLoading.run(input.channel, input.sha256);
        return Number(
          insertFile.run(input.channel, input.businessDate, input.fileName, input.sha256, input.sizeBytes, input.at)
            .lastInsertRowid,
        );
      })(),
    addSettlementLines: async (fileId: number, lines: readonly NewSettlementLine[]) => {
      const channel = (fileChannel.get(fileId) as { channel: string } | undefined)?.channel;
      if (channel === undefined) throw new Error(`settlement file ${fileId} does not exist`);
      db.transaction(() => {
        for (const l of lines) {
          insertLine.run(
            fileId,
            l.line,
            l.businessDate,
            channel,
            l.channelReference,
            l.loanNumber,
            l.currency,
            l.amount,
            l.raw,
          );
        }
      })();
    },
    finishSettlementFile: async (
      fileId: number,
      c: { lines: number; goodLines: number; badLines: number; problems: readonly string[] },
    ) =>
      db.transaction(() => {
        finishFile.run(c.lines, c.goodLines, c.badLines, JSON.stringify(c.problems), fileId);
        const row = fileById.get(fileId) as SettlementFileRow;
        supersedeFiles.run({ id: fileId, channel: row.channel, date: row.business_date });
        return toFile(row);
      })(),
    discardSettlementFile: async (fileId: number) => {
      db.transaction(() => {
        deleteLines.run(fileId);
        deleteFile.run(fileId);
      })();
    },
    listSettlementFiles: async (businessDate: string) =>
      (filesOfDate.all(businessDate, 'IMPORTED') as SettlementFileRow[]).map(toFile),

    collectedPayments: (channel: Channel, businessDate: string, batchSize: number) => ({
      async *[Symbol.asyncIterator]() {
        let at = '';
        let id = '';
        for (;;) {
          const rows = collectedPage.all({ channel, d: businessDate, at, id, limit: batchSize }) as {
            id: string;
            channel_reference: string;
            loan_number: string;
            currency: string;
            amount_minor: bigint;
            created_at: string;
          }[];
          if (rows.length === 0) return;
          const last = rows[rows.length - 1];
          at = last?.created_at ?? at;
          id = last?.id ?? id;
          yield rows.map((r) => {
            if (!isCurrency(r.currency)) throw new Error(`payment ${r.id} has an unknown currency`);
            return {
              paymentId: r.id,
              channelReference: r.channel_reference,
              loanNumber: r.loan_number,
              currency: r.currency,
              amount: BigInt(r.amount_minor),
            };
          });
          if (rows.length < batchSize) return;
        }
      },
    }),
    beginCoreExtract: async (input: {
      core: Core;
      businessDate: string;
      at: string;
      format: string;
      evidence: string;
    }) =>
      Number(insertExtract.run(input.core, input.businessDate, input.format, input.evidence, input.at).lastInsertRowid),
    addCoreExtractLines: async (extractId: number, lines: readonly CoreExtractLine[]) => {
      db.transaction(() => {
        let seq = Number((extractSeq.get(extractId) as { n: bigint }).n);
        for (const l of lines) {
          seq += 1;
          insertCoreRow.run(
            extractId,
            seq,
            l.paymentId,
            l.kind,
            l.loanNumber,
            l.currency,
            l.amount,
            l.coreReference,
            l.at,
          );
        }
      })();
    },
    finishCoreExtract: async (extractId: number, rows: number) => {
      db.transaction(() => {
        const e = extractById.get(extractId) as { core: string; business_date: string } | undefined;
        if (!e) throw new Error(`core extract ${extractId} does not exist`);
        finishExtract.run(rows, extractId);
        supersedeExtracts.run({ id: extractId, core: e.core, date: e.business_date });
      })();
    },

    run: async (options: RunOptions) => run(options),
    latestRun: async (businessDate: string) => {
      const row = latestRun.get(businessDate) as RunRow | undefined;
      return row ? toRun(row) : null;
    },
    runsBetween: async (from: string, to: string) => (runsBetween.all(from, to) as RunRow[]).map(toRun),
    totals: async (businessDate: string): Promise<Totals[]> => {
      const r = latestRun.get(businessDate) as RunRow | undefined;
      if (!r) return [];
      return (totalsOfRun.all(r.id) as TotalsRow[]).map(toTotals);
    },
    breaks: (filter: BreakFilter, batchSize: number): AsyncIterable<ReconBreak[]> => ({
      async *[Symbol.asyncIterator]() {
        let after = '';
        for (;;) {
          const rows = breakPage.all({
            after,
            date: filter.businessDate ?? null,
            status: filter.status ?? null,
            type: filter.type ?? null,
            limit: batchSize,
          }) as BreakRow[];
          if (rows.length === 0) return;
          after = rows[rows.length - 1]?.id ?? after;
          yield rows.map(toBreak);
          if (rows.length < batchSize) return;
        }
      },
    }),
    getBreak: async (id: string) => {
      const row = breakById.get(id) as BreakRow | undefined;
      return row ? toBreak(row) : null;
    },
    breakCounts: async (businessDate: string) =>
      (counts.all(businessDate) as { type: string; status: string; n: bigint }[]).map((r) => ({
        type: asBreakType(r.type),
        status: asBreakStatus(r.status),
        count: Number(r.n),
      })),
    resolveBreak: async (id: string, r: { note: string; by: string; at: string }) =>
      db.transaction(() => {
        if (resolve.run(r.note, r.by, r.at, id).changes === 0) return { kind: 'not_found' as const };
        return { kind: 'resolved' as const, break: toBreak(breakById.get(id) as BreakRow) };
      })(),
  };
  return Object.freeze(store);
}
