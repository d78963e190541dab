import type { PoolClient } from 'pg';
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
import { POSTGRES_RECON, reconStatements } from '../recon-matching-sql';
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
import type { PgDatabase } from './pg-pool';

// Reconciliation's tables on PostgreSQL: the same matching SQL as SQLite (store/recon-matching-sql.ts,
// PostgreSQL's dialect), a run in one transaction whose temporary tables drop at commit; lines go in
// with unnest() a batch at a time.

const PARAM_TYPES: Readonly<Record<string, string>> = {
  d: 'text',
  cores: 'text',
  channels: 'text',
  at: 'text',
  reason: 'text',
  run: 'bigint',
};

/** `@name` parameters as `$n::type`, in order of first appearance, with their values. */
export function pgParams(sql: string, values: Readonly<Record<string, unknown>>): { text: string; params: unknown[] } {
  const order: string[] = [];
  const text = sql.replace(/@([a-z]+)\b/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`no value for @${name}`);
    let i = order.indexOf(name);
    if (i < 0) i = order.push(name) - 1;
    return `$${i + 1}::${PARAM_TYPES[name] ?? 'text'}`;
  });
  return { text, params: order.map((n) => values[n]) };
}

export function createPgReconStore(db: PgDatabase): ReconStore {
  const one = async <R extends object>(sql: string, params: readonly unknown[]): Promise<R | undefined> =>
    (await db.query<R & Record<string, unknown>>(sql, params))[0];

  const run = (o: RunOptions): Promise<ReconRun> =>
    db.tx(async (c: PoolClient) => {
      // A day's matching is batch work: the pool's per-statement limit (meant for a payment's request)
      // is lifted for this transaction only.
      await c.query("SET LOCAL statement_timeout = '30min'");
      const sql = reconStatements(POSTGRES_RECON, o.businessDate);
      const inserted = await c.query<{ id: string }>(
        `INSERT INTO recon_runs (business_date, started_at, finished_at, status, open_breaks, new_breaks,
           closed_breaks, sources) VALUES ($1, $2, $2, 'UNBALANCED', 0, 0, 0, '{}') RETURNING id`,
        [o.businessDate, o.at],
      );
      const runId = Number(inserted.rows[0]?.id);
      const values = {
        d: o.businessDate,
        cores: JSON.stringify(o.expectedCores),
        channels: JSON.stringify(o.expectedChannels),
        run: runId,
        at: o.at,
        reason: `no longer found by run ${runId}: the sources agree now`,
      };
      const exec = async (text: string): Promise<{ rows: Record<string, unknown>[]; rowCount: number }> => {
        const q = pgParams(text, values);
        const r = await c.query(q.text, q.params);
        return { rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 };
      };
      for (const text of sql.prepare) await exec(text);
      for (const type of BREAK_TYPES) await exec(sql.find[type]);
      const fresh = Number((await exec(sql.countNew)).rows[0]?.n ?? 0);
      await exec(sql.merge);
      const closed = (await exec(sql.closeGone)).rowCount;
      await exec(sql.totals);
      const open = Number(
        (
          await c.query<{ n: string }>(
            "SELECT COUNT(*) AS n FROM recon_breaks WHERE business_date = $1 AND status = 'open' AND severity <> 'info'",
            [o.businessDate],
          )
        ).rows[0]?.n ?? 0,
      );
      const loaded = (
        await c.query<{ kind: string; name: string }>('SELECT kind, name FROM loaded ORDER BY kind, name')
      ).rows;
      const sources = {
        cores: loaded.filter((l) => l.kind === 'core').map((l) => l.name),
        channels: loaded.filter((l) => l.kind === 'channel').map((l) => l.name),
      };
      const done = await c.query<RunRow>(
        `UPDATE recon_runs SET finished_at = $1, status = $2, open_breaks = $3, new_breaks = $4, closed_breaks = $5,
           sources = $6 WHERE id = $7 RETURNING *`,
        [o.at, open === 0 ? 'BALANCED' : 'UNBALANCED', open, fresh, closed, JSON.stringify(sources), runId],
      );
      const row = done.rows[0];
      if (!row) throw new Error(`recon run ${runId} vanished inside its own transaction`);
      return toRun(row);
    });

  const store: ReconStore = {
    findSettlementFile: async (channel: Channel, sha256: string) => {
      const row = await one<SettlementFileRow>(
        "SELECT * FROM recon_settlement_files WHERE channel = $1 AND sha256 = $2 AND state = 'IMPORTED'",
        [channel, sha256],
      );
      return row ? toFile(row) : null;
    },
    beginSettlementFile: (input) =>
      db.tx(async (c) => {
        // A load that died half-way left its rows behind: they count for nothing, and go now.
        await c.query("DELETE FROM recon_settlement_files WHERE channel = $1 AND sha256 = $2 AND state = 'LOADING'", [
          input.channel,
          input.sha256,
        ]);
        const r = await c.query<{ id: string }>(
          `INSERT INTO recon_settlement_files (channel, business_date, file_name, sha256, size_bytes, state, imported_at)
           VALUES ($1, $2, $3, $4, $5, 'LOADING', $6) RETURNING id`,
          [input.channel, input.businessDate, input.fileName, input.sha256, input.sizeBytes, input.at],
        );
        return Number(r.rows[0]?.id);
      }),
    addSettlementLines: async (fileId: number, lines: readonly NewSettlementLine[]) => {
      if (lines.length === 0) return;
      await db.tx(async (c) => {
        const r = await c.query(
          `INSERT INTO recon_settlement_lines (file_id, line, business_date, channel, channel_reference, loan_number,
             currency, amount_minor, raw)
           SELECT $1, l, d, f.channel, ref, loan, cur, amt, raw
           FROM recon_settlement_files f,
             unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
               AS u(l, d, ref, loan, cur, amt, raw)
           WHERE f.id = $1`,
          [
            fileId,
            lines.map((l) => l.line),
            lines.map((l) => l.businessDate),
            lines.map((l) => l.channelReference),
            lines.map((l) => l.loanNumber),
            lines.map((l) => l.currency),
            lines.map((l) => l.amount.toString()),
            lines.map((l) => l.raw),
          ],
        );
        if ((r.rowCount ?? 0) !== lines.length) throw new Error(`settlement file ${fileId} does not exist`);
      });
    },
    finishSettlementFile: (fileId, counts) =>
      db.tx(async (c) => {
        const r = await c.query<SettlementFileRow>(
          `UPDATE recon_settlement_files SET state = 'IMPORTED', lines = $1, good_lines = $2, bad_lines = $3,
             problems = $4 WHERE id = $5 RETURNING *`,
          [counts.lines, counts.goodLines, counts.badLines, JSON.stringify(counts.problems), fileId],
        );
        const row = r.rows[0];
        if (!row) throw new Error(`settlement file ${fileId} does not exist`);
        await c.query(
          `UPDATE recon_settlement_files SET superseded_by = $1 WHERE channel = $2 AND business_date = $3
             AND state = 'IMPORTED' AND superseded_by IS NULL AND id <> $1`,
          [fileId, row.channel, row.business_date],
        );
        return toFile(row);
      }),
    discardSettlementFile: async (fileId: number) => {
      await db.tx(async (c) => {
        await c.query('DELETE FROM recon_settlement_lines WHERE file_id = $1', [fileId]);
        await c.query("DELETE FROM recon_settlement_files WHERE id = $1 AND state = 'LOADING'", [fileId]);
      });
    },
    listSettlementFiles: async (businessDate: string) =>
      (
        await db.query<SettlementFileRow & Record<string, unknown>>(
          "SELECT * FROM recon_settlement_files WHERE business_date = $1 AND state = 'IMPORTED' ORDER BY id",
          [businessDate],
        )
      ).map(toFile),
    collectedPayments: (channel: Channel, businessDate: string, batchSize: number) => ({
      async *[Symbol.asyncIterator]() {
        let at = '';
        let id = '';
        for (;;) {
          const rows = await db.query<{
            id: string;
            channel_reference: string;
            loan_number: string;
            currency: string;
            amount_minor: string;
            created_at: string;
          }>(
            `SELECT id, channel_reference, loan_number, currency, amount_minor, created_at FROM payments
             WHERE channel = $1 AND business_date = $2 AND status NOT IN ('REJECTED', 'REVERSED', 'REVERSAL_PENDING')
               AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT $5`,
            [channel, businessDate, at, id, batchSize],
          );
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
    }) => {
      const row = await one<{ id: string }>(
        `INSERT INTO recon_core_extracts (core, business_date, state, format, evidence, loaded_at)
         VALUES ($1, $2, 'LOADING', $3, $4, $5) RETURNING id`,
        [input.core, input.businessDate, input.format, input.evidence, input.at],
      );
      return Number(row?.id);
    },
    addCoreExtractLines: async (extractId: number, lines: readonly CoreExtractLine[]) => {
      if (lines.length === 0) return;
      await db.tx(async (c) => {
        await c.query('SELECT id FROM recon_core_extracts WHERE id = $1 FOR UPDATE', [extractId]);
        await c.query(
          `INSERT INTO recon_core_rows (extract_id, seq, payment_id, kind, loan_number, currency, amount_minor,
             core_reference, at)
           SELECT $1, (SELECT COALESCE(MAX(seq), 0) FROM recon_core_rows WHERE extract_id = $1) + u.n, u.pid, u.kind,
             u.loan, u.cur, u.amt, u.ref, u.at
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[])
             WITH ORDINALITY AS u(pid, kind, loan, cur, amt, ref, at, n)`,
          [
            extractId,
            lines.map((l) => l.paymentId),
            lines.map((l) => l.kind),
            lines.map((l) => l.loanNumber),
            lines.map((l) => l.currency),
            lines.map((l) => l.amount.toString()),
            lines.map((l) => l.coreReference),
            lines.map((l) => l.at),
          ],
        );
      });
    },
    finishCoreExtract: async (extractId: number, rows: number) => {
      await db.tx(async (c) => {
        const r = await c.query<{ core: string; business_date: string }>(
          "UPDATE recon_core_extracts SET state = 'LOADED', rows = $1 WHERE id = $2 RETURNING core, business_date",
          [rows, extractId],
        );
        const e = r.rows[0];
        if (!e) throw new Error(`core extract ${extractId} does not exist`);
        await c.query(
          `UPDATE recon_core_extracts SET superseded_by = $1 WHERE core = $2 AND business_date = $3
             AND state = 'LOADED' AND superseded_by IS NULL AND id <> $1`,
          [extractId, e.core, e.business_date],
        );
      });
    },
    run,
    latestRun: async (businessDate: string) => {
      const row = await one<RunRow>('SELECT * FROM recon_runs WHERE business_date = $1 ORDER BY id DESC LIMIT 1', [
        businessDate,
      ]);
      return row ? toRun(row) : null;
    },
    runsBetween: async (from: string, to: string) =>
      (
        await db.query<RunRow & Record<string, unknown>>(
          `SELECT r.* FROM recon_runs r WHERE r.id IN (SELECT MAX(id) FROM recon_runs
             WHERE business_date BETWEEN $1 AND $2 GROUP BY business_date) ORDER BY r.business_date`,
          [from, to],
        )
      ).map(toRun),
    totals: async (businessDate: string): Promise<Totals[]> =>
      (
        await db.query<TotalsRow & Record<string, unknown>>(
          `SELECT t.* FROM recon_totals t WHERE t.run_id = (SELECT MAX(id) FROM recon_runs WHERE business_date = $1)
           ORDER BY source, channel, core, currency`,
          [businessDate],
        )
      ).map(toTotals),
    breaks: (filter: BreakFilter, batchSize: number): AsyncIterable<ReconBreak[]> => ({
      async *[Symbol.asyncIterator]() {
        let after = '';
        for (;;) {
          const rows = await db.query<BreakRow & Record<string, unknown>>(
            `SELECT * FROM recon_breaks WHERE id > $1 AND ($2::text IS NULL OR business_date = $2)
               AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR type = $4) ORDER BY id LIMIT $5`,
            [after, filter.businessDate ?? null, filter.status ?? null, filter.type ?? null, batchSize],
          );
          if (rows.length === 0) return;
          after = rows[rows.length - 1]?.id ?? after;
          yield rows.map(toBreak);
          if (rows.length < batchSize) return;
        }
      },
    }),
    getBreak: async (id: string) => {
      const row = await one<BreakRow>('SELECT * FROM recon_breaks WHERE id = $1', [id]);
      return row ? toBreak(row) : null;
    },
    breakCounts: async (businessDate: string) =>
      (
        await db.query<{ type: string; status: string; n: string }>(
          `SELECT type, status, COUNT(*) AS n FROM recon_breaks WHERE business_date = $1
           GROUP BY type, status ORDER BY type, status`,
          [businessDate],
        )
      ).map((r) => ({ type: asBreakType(r.type), status: asBreakStatus(r.status), count: Number(r.n) })),
    resolveBreak: async (id: string, r: { note: string; by: string; at: string }) => {
      const row = await one<BreakRow>(
        `UPDATE recon_breaks SET resolved_note = $1, resolved_by = $2, resolved_at = $3,
           status = CASE status WHEN 'open' THEN 'resolved' ELSE status END WHERE id = $4 RETURNING *`,
        [r.note, r.by, r.at, id],
      );
      return row ? { kind: 'resolved' as const, break: toBreak(row) } : { kind: 'not_found' as const };
    },
  };
  return Object.freeze(store);
}
