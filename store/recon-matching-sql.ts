import { CORES } from '../domain/channel';
import { productPrefixOf } from '../domain/core-routing';
import { BREAK_TYPES, type BreakType, type Severity } from './recon-store-port';

// The matching of one business date as SQL over temporary tables (one connection, one transaction),
// written once for SQLite and PostgreSQL (a dialect says the few words they spell differently): the
// sources are narrowed to the date, indexed, and every break type is one INSERT … SELECT into `found`.
// Keys: payment id where the source carries it (cores, mainframe), else channel + channel reference
// (settlement lines). Nothing is read into JavaScript but the counts. Parameters: @d (the date),
// @cores and @channels (JSON arrays), @run, @at, @reason.

export const SEVERITY_OF: Readonly<Record<BreakType, Severity>> = {
  CHANNEL_UNKNOWN_TO_HUB: 'critical',
  ACCEPTED_NOT_APPLIED: 'high',
  MISSING_AT_CORE: 'high',
  CORE_APPLIED_NOT_AT_HUB: 'high',
  APPLIED_TWICE_AT_CORE: 'high',
  AMOUNT_MISMATCH: 'high',
  REVERSED_STILL_PRESENT: 'high',
  APPLIED_NOT_POSTED: 'high',
  SOURCE_MISSING: 'high',
  MAINFRAME_REJECTED: 'medium',
  DUPLICATE_SETTLEMENT_LINE: 'medium',
  MISSING_IN_SETTLEMENT: 'medium',
  OTHER_BUSINESS_DATE: 'info',
};

export interface ReconDialect {
  readonly name: 'sqlite' | 'postgres';
  /** Minor units as the edge's decimal string ('125.50'). */
  money(col: string): string;
  /** A JSON object of key/value pairs. */
  object(pairs: string): string;
  /** A JSON array of the rows' values. */
  array(value: string): string;
  /** A JSON value made by a subquery, embedded into an object (SQLite keeps JSON as text). */
  embed(json: string): string;
  /** The values of a JSON array parameter as a one-column (`value`) subquery. */
  values(param: string): string;
  /** A temporary table from a query (dropped at commit where the database can). */
  temp(name: string, body: string): string;
  index(name: string, table: string, columns: string): string;
  /** The hub's payments of the date as `hp` (checked date). */
  hub(businessDate: string): string;
  /** The break id from the date and key (same on both: BRK-<yyyymmdd>-<10 hex of SHA-256>). */
  breakId(date: string, key: string): string;
  /** Statements that clear what a failed run left (SQLite keeps temp tables per connection). */
  readonly clear: readonly string[];
  /** Statements that drop the temp objects at the end of a run. */
  readonly drop: readonly string[];
}

const TEMP = ['rs', 'rs1', 'rc', 'rcp', 'rm', 'loaded', 'found'];

function checkedDate(businessDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(businessDate)) throw new Error(`not a YYYY-MM-DD date: ${businessDate}`);
  return businessDate;
}

export const SQLITE_RECON: ReconDialect = {
  name: 'sqlite',
  money: (c) => `printf('%d.%02d', ${c} / 100, ${c} % 100)`,
  object: (pairs) => `json_object(${pairs})`,
  array: (v) => `json_group_array(${v})`,
  embed: (j) => `json(${j})`,
  values: (p) => `SELECT value FROM json_each(${p})`,
  temp: (name, body) => `CREATE TEMP TABLE ${name} AS ${body}`,
  index: (name, table, cols) => `CREATE INDEX temp.${name} ON ${table} (${cols})`,
  // A view: the payments table is indexed by date and by id already; copying a million rows would only
  // cost. A view takes no parameter: the date is a checked literal.
  hub: (d) => `CREATE TEMP VIEW hp AS SELECT * FROM payments WHERE business_date = '${checkedDate(d)}'`,
  breakId: (d, key) => `recon_break_id(${d}, ${key})`,
  clear: ['DROP VIEW IF EXISTS temp.hp', ...TEMP.map((t) => `DROP TABLE IF EXISTS temp.${t}`)],
  drop: ['DROP VIEW temp.hp', ...TEMP.map((t) => `DROP TABLE temp.${t}`)],
};

export const POSTGRES_RECON: ReconDialect = {
  name: 'postgres',
  money: (c) => `((${c}) / 100)::text || '.' || lpad(((${c}) % 100)::text, 2, '0')`,
  object: (pairs) => `json_build_object(${pairs})`,
  array: (v) => `json_agg(${v})`,
  embed: (j) => j,
  values: (p) => `SELECT value FROM json_array_elements_text(CAST(${p} AS json)) AS t(value)`,
  temp: (name, body) => `CREATE TEMP TABLE ${name} ON COMMIT DROP AS ${body}`,
  index: (_name, table, cols) => `CREATE INDEX ON ${table} (${cols})`,
  hub: (d) => `CREATE TEMP TABLE hp ON COMMIT DROP AS SELECT * FROM payments WHERE business_date = '${checkedDate(d)}'`,
  breakId: (d, key) =>
    `'BRK-' || replace(CAST(${d} AS text), '-', '') || '-' || upper(substr(encode(sha256(convert_to(CAST(${d} AS text) || '|' || ${key}, 'UTF8')), 'hex'), 1, 10))`,
  clear: [],
  drop: [],
};

/** The core of a loan number, from the routing table's product prefixes. */
export const coreOfLoanSql = (col: string): string =>
  `CASE substr(${col}, 1, 2) ${CORES.map((c) => `WHEN '${productPrefixOf(c)}' THEN '${c}'`).join(' ')} ELSE 'unknown' END`;

export interface ReconStatements {
  /** In order: clear, the hub's payments, every source narrowed and indexed, `found`. */
  readonly prepare: readonly string[];
  readonly find: Readonly<Record<BreakType, string>>;
  readonly countNew: string;
  readonly merge: string;
  readonly closeGone: string;
  readonly totals: string;
  readonly drop: readonly string[];
}

export function reconStatements(x: ReconDialect, businessDate: string): ReconStatements {
  const money = x.money;
  const hubEvidence = (p: string): string =>
    x.object(`'paymentId', ${p}.id, 'status', ${p}.status, 'businessDate', ${p}.business_date, 'channel', ${p}.channel,
      'channelReference', ${p}.channel_reference, 'loanNumber', ${p}.loan_number, 'core', ${p}.core,
      'currency', ${p}.currency, 'amount', ${money(`${p}.amount_minor`)}, 'coreReference', ${p}.core_reference`);
  const hubEvidenceById = (pid: string): string =>
    `(SELECT ${hubEvidence('hx')} FROM payments hx WHERE hx.id = ${pid})`;
  const coreEvidence = (pid: string): string =>
    `(SELECT CASE WHEN COUNT(*) = 0 THEN NULL ELSE ${x.array(
      x.object(`'core', cx.core, 'kind', cx.kind, 'loanNumber', cx.loan_number, 'currency', cx.currency,
        'amount', ${money('cx.amount_minor')}, 'coreReference', cx.core_reference, 'at', cx.at,
        'extractDate', cx.extract_date`),
    )} END FROM rc cx WHERE cx.payment_id = ${pid})`;
  const mainframeEvidence = (pid: string): string =>
    `(SELECT ${x.object(`'file', mx.file_name, 'fileState', mx.file_state, 'result', mx.result, 'reason', mx.reason,
      'postingReference', mx.posting_ref`)} FROM rm mx WHERE mx.payment_id = ${pid})`;
  const channelEvidence = (channel: string, ref: string): string =>
    `(SELECT CASE WHEN COUNT(*) = 0 THEN NULL ELSE ${x.array(
      x.object(`'file', sx.file_name, 'line', sx.line, 'businessDate', sx.line_date, 'loanNumber', sx.loan_number,
        'currency', sx.currency, 'amount', ${money('sx.amount_minor')}, 'raw', sx.raw`),
    )} END FROM rs sx WHERE sx.channel = ${channel} AND sx.ref = ${ref})`;
  const allEvidence = (pid: string, channel: string, ref: string): string =>
    x.object(`'hub', ${x.embed(hubEvidenceById(pid))}, 'core', ${x.embed(coreEvidence(pid))},
      'mainframe', ${x.embed(mainframeEvidence(pid))}, 'channel', ${x.embed(channelEvidence(channel, ref))}`);
  const applied = (col: string): string => `SUM(CASE WHEN ${col} = 'APPLIED' THEN 1 ELSE 0 END)`;
  const reversed = (col: string): string => `SUM(CASE WHEN ${col} = 'REVERSED' THEN 1 ELSE 0 END)`;

  const prepare = [
    ...x.clear,
    x.hub(businessDate),
    x.temp(
      'rs',
      `SELECT l.file_id, f.file_name, l.line, l.business_date AS line_date, l.channel,
       l.channel_reference AS ref, l.loan_number, l.currency, l.amount_minor, l.raw
       FROM recon_settlement_lines l JOIN recon_settlement_files f ON f.id = l.file_id
       WHERE f.business_date = @d AND f.state = 'IMPORTED' AND f.superseded_by IS NULL`,
    ),
    x.index('rs_ref', 'rs', 'channel, ref, line'),
    // One row per channel reference: its first line, how many lines, the hub payment it names (a
    // rejected payment and another date only when nothing better has the reference), and whether it
    // belongs to this date's matching at all.
    x.temp(
      'rs1',
      `SELECT g.*, hp2.business_date AS hub_date,
       (g.line_date = @d AND (g.payment_id IS NULL OR hp2.business_date = @d)) AS in_scope
       FROM (SELECT w.channel, w.ref, w.file_name, w.line, w.line_date, w.loan_number, w.currency, w.amount_minor, w.n,
         (SELECT p.id FROM payments p WHERE p.channel = w.channel AND p.channel_reference = w.ref
           ORDER BY (p.status = 'REJECTED'), (p.business_date <> @d), p.id LIMIT 1) AS payment_id
         FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.channel, s.ref ORDER BY s.line) AS k,
           COUNT(*) OVER (PARTITION BY s.channel, s.ref) AS n FROM rs s) w WHERE w.k = 1) g
       LEFT JOIN payments hp2 ON hp2.id = g.payment_id`,
    ),
    x.index('rs1_pid', 'rs1', 'payment_id'),
    // The cores' rows: the date's extracts, plus rows of other dates' extracts about the date's payments
    // (a core's day is its calendar day; the hub's business date moves at the cutoff).
    x.temp(
      'rc',
      `SELECT r.payment_id, r.kind, r.loan_number, r.currency, r.amount_minor, r.core_reference, r.at, e.core,
         e.business_date AS extract_date
       FROM recon_core_rows r JOIN recon_core_extracts e ON e.id = r.extract_id
       WHERE e.business_date = @d AND e.state = 'LOADED' AND e.superseded_by IS NULL
       UNION ALL
       SELECT r.payment_id, r.kind, r.loan_number, r.currency, r.amount_minor, r.core_reference, r.at, e.core,
         e.business_date
       FROM hp JOIN recon_core_rows r ON r.payment_id = hp.id JOIN recon_core_extracts e ON e.id = r.extract_id
       WHERE e.business_date <> @d AND e.state = 'LOADED' AND e.superseded_by IS NULL`,
    ),
    x.index('rc_pid', 'rc', 'payment_id'),
    x.temp(
      'rcp',
      `SELECT payment_id, MIN(core) AS core, ${applied('kind')} AS applied_n, ${reversed('kind')} AS reversed_n
       FROM rc GROUP BY payment_id`,
    ),
    x.index('rcp_pid', 'rcp', 'payment_id'),
    // The file in effect for each payment of the date (a superseded file's payments went into its resend).
    x.temp(
      'rm',
      `SELECT b.payment_id, f.name AS file_name, f.state AS file_state, b.result, b.reason, b.posting_ref
       FROM batch_file_payments b JOIN batch_files f ON f.id = b.file_id
       WHERE f.business_date = @d AND f.superseded_by IS NULL`,
    ),
    x.index('rm_pid', 'rm', 'payment_id'),
    x.temp(
      'loaded',
      `SELECT 'core' AS kind, core AS name FROM recon_core_extracts
         WHERE business_date = @d AND state = 'LOADED' AND superseded_by IS NULL
       UNION SELECT 'channel', channel FROM recon_settlement_files
         WHERE business_date = @d AND state = 'IMPORTED' AND superseded_by IS NULL`,
    ),
    `CREATE TEMP TABLE found (
       break_key TEXT PRIMARY KEY, type TEXT NOT NULL, payment_id TEXT, channel TEXT, channel_reference TEXT,
       core TEXT, evidence TEXT NOT NULL)${x.name === 'postgres' ? ' ON COMMIT DROP' : ''}`,
  ];

  const into = 'INSERT INTO found (break_key, type, payment_id, channel, channel_reference, core, evidence)';
  const dedupe = ' ON CONFLICT DO NOTHING';
  const find: Record<BreakType, string> = {
    // A customer paid at the channel and the hub never heard of it: the loan was not credited (whatever
    // date the line carries: an unknown payment is never only informational).
    CHANNEL_UNKNOWN_TO_HUB: `${into}
      SELECT 'CHANNEL_UNKNOWN_TO_HUB|' || s.channel || '|' || s.ref, 'CHANNEL_UNKNOWN_TO_HUB', NULL, s.channel, s.ref,
        ${coreOfLoanSql('s.loan_number')}, ${x.object(`'channel', ${x.embed(channelEvidence('s.channel', 's.ref'))}`)}
      FROM rs1 s WHERE s.payment_id IS NULL${dedupe}`,
    ACCEPTED_NOT_APPLIED: `${into}
      SELECT 'ACCEPTED_NOT_APPLIED|' || p.id, 'ACCEPTED_NOT_APPLIED', p.id, p.channel, p.channel_reference, p.core,
        ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
      FROM hp p WHERE p.status = 'ACCEPTED'${dedupe}`,
    MISSING_AT_CORE: `${into}
      SELECT 'MISSING_AT_CORE|' || p.id, 'MISSING_AT_CORE', p.id, p.channel, p.channel_reference, p.core,
        ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
      FROM hp p
      WHERE p.status IN ('APPLIED', 'POSTED', 'POST_REJECTED', 'REVERSAL_PENDING')
        AND EXISTS (SELECT 1 FROM loaded l WHERE l.kind = 'core' AND l.name = p.core)
        AND NOT EXISTS (SELECT 1 FROM rc c WHERE c.payment_id = p.id AND c.kind = 'APPLIED')${dedupe}`,
    CORE_APPLIED_NOT_AT_HUB: `${into}
      SELECT 'CORE_APPLIED_NOT_AT_HUB|' || c.payment_id, 'CORE_APPLIED_NOT_AT_HUB', c.payment_id, p.channel,
        p.channel_reference, c.core, ${allEvidence('c.payment_id', 'p.channel', 'p.channel_reference')}
      FROM rcp c LEFT JOIN payments p ON p.id = c.payment_id
      WHERE c.applied_n > c.reversed_n AND (p.id IS NULL OR p.status = 'REJECTED')${dedupe}`,
    APPLIED_TWICE_AT_CORE: `${into}
      SELECT 'APPLIED_TWICE_AT_CORE|' || c.payment_id, 'APPLIED_TWICE_AT_CORE', c.payment_id, p.channel,
        p.channel_reference, c.core, ${allEvidence('c.payment_id', 'p.channel', 'p.channel_reference')}
      FROM rcp c LEFT JOIN payments p ON p.id = c.payment_id WHERE c.applied_n >= 2${dedupe}`,
    // Amount or currency: the hub against every core row applying it and the channel's line (the
    // mainframe's request carries the hub's own amount).
    AMOUNT_MISMATCH: `${into}
      SELECT 'AMOUNT_MISMATCH|' || p.id, 'AMOUNT_MISMATCH', p.id, p.channel, p.channel_reference, p.core,
        ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
      FROM hp p
      WHERE p.status NOT IN ('REJECTED', 'REVERSED') AND (
        EXISTS (SELECT 1 FROM rc c WHERE c.payment_id = p.id AND c.kind = 'APPLIED'
          AND (c.amount_minor <> p.amount_minor OR c.currency <> p.currency))
        OR EXISTS (SELECT 1 FROM rs1 s WHERE s.payment_id = p.id AND s.in_scope
          AND (s.amount_minor <> p.amount_minor OR s.currency <> p.currency)))${dedupe}`,
    REVERSED_STILL_PRESENT: `${into}
      SELECT 'REVERSED_STILL_PRESENT|' || p.id, 'REVERSED_STILL_PRESENT', p.id, p.channel, p.channel_reference, p.core,
        ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
      FROM hp p WHERE p.status = 'REVERSED' AND (
        EXISTS (SELECT 1 FROM rcp c WHERE c.payment_id = p.id AND c.applied_n > c.reversed_n)
        OR EXISTS (SELECT 1 FROM rm m WHERE m.payment_id = p.id AND m.result = 'P')
        OR EXISTS (SELECT 1 FROM rs s WHERE s.channel = p.channel AND s.ref = p.channel_reference))${dedupe}`,
    // Still APPLIED after the night: in no file, in a file without an answer, or in a refused one.
    APPLIED_NOT_POSTED: `${into}
      SELECT 'APPLIED_NOT_POSTED|' || p.id, 'APPLIED_NOT_POSTED', p.id, p.channel, p.channel_reference, p.core,
        ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
      FROM hp p WHERE p.status = 'APPLIED'${dedupe}`,
    MAINFRAME_REJECTED: `${into}
      SELECT 'MAINFRAME_REJECTED|' || p.id, 'MAINFRAME_REJECTED', p.id, p.channel, p.channel_reference, p.core,
        ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
      FROM hp p
      WHERE p.status = 'POST_REJECTED' OR EXISTS (SELECT 1 FROM rm m WHERE m.payment_id = p.id AND m.result = 'R')${dedupe}`,
    OTHER_BUSINESS_DATE: `${into}
      SELECT 'OTHER_BUSINESS_DATE|' || s.channel || '|' || s.ref, 'OTHER_BUSINESS_DATE', s.payment_id, s.channel, s.ref,
        ${coreOfLoanSql('s.loan_number')},
        ${x.object(`'hub', ${x.embed(hubEvidenceById('s.payment_id'))}, 'channel', ${x.embed(channelEvidence('s.channel', 's.ref'))}`)}
      FROM rs1 s WHERE NOT s.in_scope AND s.payment_id IS NOT NULL${dedupe}`,
    DUPLICATE_SETTLEMENT_LINE: `${into}
      SELECT 'DUPLICATE_SETTLEMENT_LINE|' || s.channel || '|' || s.ref, 'DUPLICATE_SETTLEMENT_LINE', s.payment_id,
        s.channel, s.ref, ${coreOfLoanSql('s.loan_number')},
        ${x.object(`'hub', ${x.embed(hubEvidenceById('s.payment_id'))}, 'channel', ${x.embed(channelEvidence('s.channel', 's.ref'))}`)}
      FROM rs1 s WHERE s.n > 1${dedupe}`,
    // The hub took it from the channel, whose file for the date does not list it.
    MISSING_IN_SETTLEMENT: `${into}
      SELECT 'MISSING_IN_SETTLEMENT|' || p.id, 'MISSING_IN_SETTLEMENT', p.id, p.channel, p.channel_reference, p.core,
        ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
      FROM hp p
      WHERE p.status NOT IN ('REJECTED', 'REVERSED', 'REVERSAL_PENDING')
        AND EXISTS (SELECT 1 FROM loaded l WHERE l.kind = 'channel' AND l.name = p.channel)
        AND NOT EXISTS (SELECT 1 FROM rs s WHERE s.channel = p.channel AND s.ref = p.channel_reference)${dedupe}`,
    // A source the day needs (a channel or core with payments on the date) sent nothing.
    SOURCE_MISSING: `${into}
      SELECT 'SOURCE_MISSING|' || y.kind || '|' || y.name, 'SOURCE_MISSING', NULL,
        CASE y.kind WHEN 'channel' THEN y.name END, NULL, CASE y.kind WHEN 'core' THEN y.name END,
        ${x.object(
          `'hub', ${x.object(`'kind', y.kind, 'name', y.name, 'payments', y.n,
          'detail', CASE y.kind WHEN 'core' THEN 'no extract of the core for the date'
                    ELSE 'no settlement file of the channel for the date' END`)}`,
        )}
      FROM (SELECT 'core' AS kind, e.value AS name, (SELECT COUNT(*) FROM hp WHERE hp.core = e.value) AS n
              FROM (${x.values('@cores')}) e
            UNION ALL
            SELECT 'channel', e.value, (SELECT COUNT(*) FROM hp WHERE hp.channel = e.value)
              FROM (${x.values('@channels')}) e) y
      WHERE y.n > 0 AND NOT EXISTS (SELECT 1 FROM loaded l WHERE l.kind = y.kind AND l.name = y.name)${dedupe}`,
  };

  const severity = `CASE f.type ${BREAK_TYPES.map((t) => `WHEN '${t}' THEN '${SEVERITY_OF[t]}'`).join(' ')} END`;
  return {
    prepare,
    find,
    countNew: `SELECT COUNT(*) AS n FROM found f
      WHERE NOT EXISTS (SELECT 1 FROM recon_breaks b WHERE b.id = ${x.breakId('@d', 'f.break_key')})`,
    merge: `INSERT INTO recon_breaks (id, business_date, type, severity, status, break_key, payment_id, channel,
        channel_reference, core, evidence, first_seen_run, last_seen_run)
      SELECT ${x.breakId('@d', 'f.break_key')}, @d, f.type, ${severity}, 'open', f.break_key, f.payment_id, f.channel,
        f.channel_reference, f.core, f.evidence, CAST(@run AS BIGINT), CAST(@run AS BIGINT) FROM found f WHERE true
      ON CONFLICT (id) DO UPDATE SET evidence = excluded.evidence, last_seen_run = excluded.last_seen_run,
        status = CASE WHEN recon_breaks.resolved_at IS NOT NULL THEN 'resolved' ELSE 'open' END,
        closed_reason = NULL, closed_at = NULL`,
    // A break the sources no longer show is closed with that reason; a resolution on it stays.
    closeGone: `UPDATE recon_breaks SET
        status = CASE WHEN resolved_at IS NOT NULL THEN 'resolved' ELSE 'closed' END,
        closed_reason = @reason, closed_at = @at
      WHERE business_date = @d AND closed_at IS NULL AND last_seen_run < CAST(@run AS BIGINT)`,
    totals: `INSERT INTO recon_totals (run_id, source, channel, core, currency, count, amount_minor)
      SELECT CAST(@run AS BIGINT), 'hub', channel, core, currency, COUNT(*), SUM(amount_minor) FROM hp
        WHERE status NOT IN ('REJECTED', 'REVERSED') GROUP BY channel, core, currency
      UNION ALL
      SELECT CAST(@run AS BIGINT), 'core', COALESCE(p.channel, 'unknown'), c.core, c.currency,
          SUM(CASE c.kind WHEN 'APPLIED' THEN 1 ELSE -1 END),
          SUM(CASE c.kind WHEN 'APPLIED' THEN c.amount_minor ELSE -c.amount_minor END)
        FROM rc c LEFT JOIN payments p ON p.id = c.payment_id WHERE c.extract_date = @d
        GROUP BY COALESCE(p.channel, 'unknown'), c.core, c.currency
      UNION ALL
      SELECT CAST(@run AS BIGINT), 'mainframe', p.channel, p.core, p.currency, COUNT(*), SUM(p.amount_minor)
        FROM rm m JOIN payments p ON p.id = m.payment_id WHERE m.result = 'P' GROUP BY p.channel, p.core, p.currency
      UNION ALL
      SELECT CAST(@run AS BIGINT), 'channel', s.channel, ${coreOfLoanSql('s.loan_number')}, s.currency, COUNT(*),
          SUM(s.amount_minor)
        FROM rs s WHERE s.line_date = @d GROUP BY s.channel, ${coreOfLoanSql('s.loan_number')}, s.currency`,
    drop: x.drop,
  };
}
