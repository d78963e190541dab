import { CORES } from '../../domain/channel';
import { productPrefixOf } from '../../domain/core-routing';
import type { BreakType, Severity } from '../recon-store-port';

// The matching of one business date as SQL over temporary tables (one connection, one transaction):
// the sources are narrowed to the date, indexed, and every break type is one INSERT … SELECT into
// `found`. Keys: payment id where the source carries it (cores, mainframe), else channel + channel
// reference (settlement lines). Nothing is read into JavaScript but the counts.

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

const money = (col: string): string => `printf('%d.%02d', ${col} / 100, ${col} % 100)`;

/** The core of a loan number, from the routing table's product prefixes. */
export const coreOfLoanSql = (col: string): string =>
  `CASE substr(${col}, 1, 2) ${CORES.map((c) => `WHEN '${productPrefixOf(c)}' THEN '${c}'`).join(' ')} ELSE 'unknown' END`;

const hubEvidence = (p: string): string =>
  `json_object('paymentId', ${p}.id, 'status', ${p}.status, 'businessDate', ${p}.business_date, 'channel', ${p}.channel,
    'channelReference', ${p}.channel_reference, 'loanNumber', ${p}.loan_number, 'core', ${p}.core,
    'currency', ${p}.currency, 'amount', ${money(`${p}.amount_minor`)}, 'coreReference', ${p}.core_reference)`;

const hubEvidenceById = (pid: string): string => `(SELECT ${hubEvidence('hx')} FROM payments hx WHERE hx.id = ${pid})`;

const coreEvidence = (pid: string): string =>
  `(SELECT CASE WHEN COUNT(*) = 0 THEN NULL ELSE json_group_array(json_object('core', cx.core, 'kind', cx.kind,
    'loanNumber', cx.loan_number, 'currency', cx.currency, 'amount', ${money('cx.amount_minor')},
    'coreReference', cx.core_reference, 'at', cx.at, 'extractDate', cx.extract_date)) END FROM rc cx WHERE cx.payment_id = ${pid})`;

const mainframeEvidence = (pid: string): string =>
  `(SELECT json_object('file', mx.file_name, 'fileState', mx.file_state, 'result', mx.result, 'reason', mx.reason,
    'postingReference', mx.posting_ref) FROM rm mx WHERE mx.payment_id = ${pid})`;

const channelEvidence = (channel: string, ref: string): string =>
  `(SELECT CASE WHEN COUNT(*) = 0 THEN NULL ELSE json_group_array(json_object('file', sx.file_name, 'line', sx.line,
    'businessDate', sx.line_date, 'loanNumber', sx.loan_number, 'currency', sx.currency,
    'amount', ${money('sx.amount_minor')}, 'raw', sx.raw)) END FROM rs sx WHERE sx.channel = ${channel} AND sx.ref = ${ref})`;

const allEvidence = (pid: string, channel: string, ref: string): string =>
  `json_object('hub', json(${hubEvidenceById(pid)}), 'core', json(${coreEvidence(pid)}),
    'mainframe', json(${mainframeEvidence(pid)}), 'channel', json(${channelEvidence(channel, ref)}))`;

/** The view `hp` of the hub's payments of a date (YYYY-MM-DD, checked: it is written into the SQL). */
export function hubViewSql(businessDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(businessDate)) throw new Error(`not a YYYY-MM-DD date: ${businessDate}`);
  return `CREATE TEMP VIEW hp AS SELECT * FROM payments WHERE business_date = '${businessDate}'`;
}

/** Narrows every source to the date (@d) and indexes what the joins use ('@HUB_VIEW': hubViewSql). */
export const PREPARE_SOURCES: readonly string[] = [
  'DROP VIEW IF EXISTS temp.hp',
  'DROP TABLE IF EXISTS temp.rs',
  'DROP TABLE IF EXISTS temp.rs1',
  'DROP TABLE IF EXISTS temp.rc',
  'DROP TABLE IF EXISTS temp.rcp',
  'DROP TABLE IF EXISTS temp.rm',
  'DROP TABLE IF EXISTS temp.found',
  'DROP TABLE IF EXISTS temp.loaded',
  // The hub's payments of the date: a view (the payments table is indexed by date and by id already;
  // copying a million rows would only cost). A view takes no parameter: the date is a checked literal.
  '@HUB_VIEW',
  `CREATE TEMP TABLE rs AS SELECT l.file_id, f.file_name, l.line, l.business_date AS line_date, l.channel,
     l.channel_reference AS ref, l.loan_number, l.currency, l.amount_minor, l.raw
     FROM recon_settlement_lines l JOIN recon_settlement_files f ON f.id = l.file_id
     WHERE f.business_date = @d AND f.state = 'IMPORTED' AND f.superseded_by IS NULL`,
  'CREATE INDEX temp.rs_ref ON rs (channel, ref, line)',
  // One row per channel reference: its first line, how many lines, the hub payment it names (a
  // rejected payment and another date only when nothing better has the reference), and whether it
  // belongs to this date's matching at all.
  `CREATE TEMP TABLE rs1 AS SELECT g.*, hp2.business_date AS hub_date,
     (g.line_date = @d AND (g.payment_id IS NULL OR hp2.business_date = @d)) AS in_scope
     FROM (SELECT s.channel, s.ref, s.file_name, MIN(s.line) AS line, s.line_date, s.loan_number, s.currency,
       s.amount_minor, COUNT(*) AS n,
       (SELECT p.id FROM payments p WHERE p.channel = s.channel AND p.channel_reference = s.ref
         ORDER BY (p.status = 'REJECTED'), (p.business_date <> @d), p.id LIMIT 1) AS payment_id
       FROM rs s GROUP BY s.channel, s.ref) g
     LEFT JOIN payments hp2 ON hp2.id = g.payment_id`,
  'CREATE INDEX temp.rs1_pid ON rs1 (payment_id)',
  // The cores' rows: the date's extracts, plus rows of other dates' extracts about the date's payments
  // (a core's day is its calendar day; the hub's business date moves at the cutoff).
  `CREATE TEMP TABLE rc AS
     SELECT r.payment_id, r.kind, r.loan_number, r.currency, r.amount_minor, r.core_reference, r.at, e.core,
       e.business_date AS extract_date
     FROM recon_core_rows r JOIN recon_core_extracts e ON e.id = r.extract_id
     WHERE e.business_date = @d AND e.state = 'LOADED' AND e.superseded_by IS NULL
     UNION ALL
     SELECT r.payment_id, r.kind, r.loan_number, r.currency, r.amount_minor, r.core_reference, r.at, e.core,
       e.business_date
     FROM hp JOIN recon_core_rows r ON r.payment_id = hp.id JOIN recon_core_extracts e ON e.id = r.extract_id
     WHERE e.business_date <> @d AND e.state = 'LOADED' AND e.superseded_by IS NULL`,
  'CREATE INDEX temp.rc_pid ON rc (payment_id)',
  `CREATE TEMP TABLE rcp AS SELECT payment_id, MIN(core) AS core, SUM(kind = 'APPLIED') AS applied_n,
     SUM(kind = 'REVERSED') AS reversed_n FROM rc GROUP BY payment_id`,
  'CREATE UNIQUE INDEX temp.rcp_pid ON rcp (payment_id)',
  // The file in effect for each payment of the date (a superseded file's payments went into its resend).
  `CREATE TEMP TABLE rm AS SELECT b.payment_id, f.name AS file_name, f.state AS file_state, b.result, b.reason,
     b.posting_ref FROM batch_file_payments b JOIN batch_files f ON f.id = b.file_id
     WHERE f.business_date = @d AND f.superseded_by IS NULL`,
  'CREATE INDEX temp.rm_pid ON rm (payment_id)',
  `CREATE TEMP TABLE loaded AS
     SELECT 'core' AS kind, core AS name FROM recon_core_extracts
       WHERE business_date = @d AND state = 'LOADED' AND superseded_by IS NULL
     UNION SELECT 'channel', channel FROM recon_settlement_files
       WHERE business_date = @d AND state = 'IMPORTED' AND superseded_by IS NULL`,
  `CREATE TEMP TABLE found (
     break_key TEXT PRIMARY KEY, type TEXT NOT NULL, payment_id TEXT, channel TEXT, channel_reference TEXT,
     core TEXT, evidence TEXT NOT NULL)`,
];

const insertFound = `INSERT OR IGNORE INTO found (break_key, type, payment_id, channel, channel_reference, core, evidence)`;

/** One statement per break type; each reads the temp tables of PREPARE_SOURCES. */
export const FIND_BREAKS: Readonly<Record<BreakType, string>> = {
  // A customer paid at the channel and the hub never heard of it: the loan was not credited (whatever
  // date the line carries: an unknown payment is never only informational).
  CHANNEL_UNKNOWN_TO_HUB: `${insertFound}
    SELECT 'CHANNEL_UNKNOWN_TO_HUB|' || s.channel || '|' || s.ref, 'CHANNEL_UNKNOWN_TO_HUB', NULL, s.channel, s.ref,
      ${coreOfLoanSql('s.loan_number')},
      json_object('channel', json(${channelEvidence('s.channel', 's.ref')}))
    FROM rs1 s WHERE s.payment_id IS NULL`,
  ACCEPTED_NOT_APPLIED: `${insertFound}
    SELECT 'ACCEPTED_NOT_APPLIED|' || p.id, 'ACCEPTED_NOT_APPLIED', p.id, p.channel, p.channel_reference, p.core,
      ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
    FROM hp p WHERE p.status = 'ACCEPTED'`,
  MISSING_AT_CORE: `${insertFound}
    SELECT 'MISSING_AT_CORE|' || p.id, 'MISSING_AT_CORE', p.id, p.channel, p.channel_reference, p.core,
      ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
    FROM hp p
    WHERE p.status IN ('APPLIED', 'POSTED', 'POST_REJECTED', 'REVERSAL_PENDING')
      AND EXISTS (SELECT 1 FROM loaded l WHERE l.kind = 'core' AND l.name = p.core)
      AND NOT EXISTS (SELECT 1 FROM rc c WHERE c.payment_id = p.id AND c.kind = 'APPLIED')`,
  CORE_APPLIED_NOT_AT_HUB: `${insertFound}
    SELECT 'CORE_APPLIED_NOT_AT_HUB|' || c.payment_id, 'CORE_APPLIED_NOT_AT_HUB', c.payment_id, p.channel,
      p.channel_reference, c.core, ${allEvidence('c.payment_id', 'p.channel', 'p.channel_reference')}
    FROM rcp c LEFT JOIN payments p ON p.id = c.payment_id
    WHERE c.applied_n > c.reversed_n AND (p.id IS NULL OR p.status = 'REJECTED')`,
  APPLIED_TWICE_AT_CORE: `${insertFound}
    SELECT 'APPLIED_TWICE_AT_CORE|' || c.payment_id, 'APPLIED_TWICE_AT_CORE', c.payment_id, p.channel,
      p.channel_reference, c.core, ${allEvidence('c.payment_id', 'p.channel', 'p.channel_reference')}
    FROM rcp c LEFT JOIN payments p ON p.id = c.payment_id WHERE c.applied_n >= 2`,
  // Amount or currency: the hub against every core row applying it and the channel's line (the
  // mainframe's request carries the hub's own amount).
  AMOUNT_MISMATCH: `${insertFound}
    SELECT 'AMOUNT_MISMATCH|' || p.id, 'AMOUNT_MISMATCH', p.id, p.channel, p.channel_reference, p.core,
      ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
    FROM hp p
    WHERE p.status NOT IN ('REJECTED', 'REVERSED') AND (
      EXISTS (SELECT 1 FROM rc c WHERE c.payment_id = p.id AND c.kind = 'APPLIED'
        AND (c.amount_minor <> p.amount_minor OR c.currency <> p.currency))
      OR EXISTS (SELECT 1 FROM rs1 s WHERE s.payment_id = p.id AND s.in_scope
        AND (s.amount_minor <> p.amount_minor OR s.currency <> p.currency)))`,
  REVERSED_STILL_PRESENT: `${insertFound}
    SELECT 'REVERSED_STILL_PRESENT|' || p.id, 'REVERSED_STILL_PRESENT', p.id, p.channel, p.channel_reference, p.core,
      ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
    FROM hp p WHERE p.status = 'REVERSED' AND (
      EXISTS (SELECT 1 FROM rcp c WHERE c.payment_id = p.id AND c.applied_n > c.reversed_n)
      OR EXISTS (SELECT 1 FROM rm m WHERE m.payment_id = p.id AND m.result = 'P')
      OR EXISTS (SELECT 1 FROM rs s WHERE s.channel = p.channel AND s.ref = p.channel_reference))`,
  // Still APPLIED after the night: in no file, in a file without an answer, or in a refused one.
  APPLIED_NOT_POSTED: `${insertFound}
    SELECT 'APPLIED_NOT_POSTED|' || p.id, 'APPLIED_NOT_POSTED', p.id, p.channel, p.channel_reference, p.core,
      ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
    FROM hp p WHERE p.status = 'APPLIED'`,
  MAINFRAME_REJECTED: `${insertFound}
    SELECT 'MAINFRAME_REJECTED|' || p.id, 'MAINFRAME_REJECTED', p.id, p.channel, p.channel_reference, p.core,
      ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
    FROM hp p WHERE p.status = 'POST_REJECTED' OR EXISTS (SELECT 1 FROM rm m WHERE m.payment_id = p.id AND m.result = 'R')`,
  OTHER_BUSINESS_DATE: `${insertFound}
    SELECT 'OTHER_BUSINESS_DATE|' || s.channel || '|' || s.ref, 'OTHER_BUSINESS_DATE', s.payment_id, s.channel, s.ref,
      ${coreOfLoanSql('s.loan_number')},
      json_object('hub', json(${hubEvidenceById('s.payment_id')}), 'channel', json(${channelEvidence('s.channel', 's.ref')}))
    FROM rs1 s WHERE NOT s.in_scope AND s.payment_id IS NOT NULL`,
  DUPLICATE_SETTLEMENT_LINE: `${insertFound}
    SELECT 'DUPLICATE_SETTLEMENT_LINE|' || s.channel || '|' || s.ref, 'DUPLICATE_SETTLEMENT_LINE', s.payment_id,
      s.channel, s.ref, ${coreOfLoanSql('s.loan_number')},
      json_object('hub', json(${hubEvidenceById('s.payment_id')}), 'channel', json(${channelEvidence('s.channel', 's.ref')}))
    FROM rs1 s WHERE s.n > 1`,
  // The hub took it from the channel, whose file for the date does not list it.
  MISSING_IN_SETTLEMENT: `${insertFound}
    SELECT 'MISSING_IN_SETTLEMENT|' || p.id, 'MISSING_IN_SETTLEMENT', p.id, p.channel, p.channel_reference, p.core,
      ${allEvidence('p.id', 'p.channel', 'p.channel_reference')}
    FROM hp p
    WHERE p.status NOT IN ('REJECTED', 'REVERSED', 'REVERSAL_PENDING')
      AND EXISTS (SELECT 1 FROM loaded l WHERE l.kind = 'channel' AND l.name = p.channel)
      AND NOT EXISTS (SELECT 1 FROM rs s WHERE s.channel = p.channel AND s.ref = p.channel_reference)`,
  // A source the day needs (a channel or core with payments on the date) sent nothing.
  SOURCE_MISSING: `${insertFound}
    SELECT 'SOURCE_MISSING|' || x.kind || '|' || x.name, 'SOURCE_MISSING', NULL,
      CASE x.kind WHEN 'channel' THEN x.name END, NULL, CASE x.kind WHEN 'core' THEN x.name END,
      json_object('hub', json_object('kind', x.kind, 'name', x.name, 'payments', x.n,
        'detail', CASE x.kind WHEN 'core' THEN 'no extract of the core for the date'
                  ELSE 'no settlement file of the channel for the date' END))
    FROM (SELECT 'core' AS kind, e.value AS name, (SELECT COUNT(*) FROM hp WHERE hp.core = e.value) AS n
            FROM json_each(@cores) e
          UNION ALL
          SELECT 'channel', e.value, (SELECT COUNT(*) FROM hp WHERE hp.channel = e.value) FROM json_each(@channels) e) x
    WHERE x.n > 0 AND NOT EXISTS (SELECT 1 FROM loaded l WHERE l.kind = x.kind AND l.name = x.name)`,
};

/** Count and sum per source × channel × core × currency, for the run @run. */
export const WRITE_TOTALS = `INSERT INTO recon_totals (run_id, source, channel, core, currency, count, amount_minor)
  SELECT @run, 'hub', channel, core, currency, COUNT(*), SUM(amount_minor) FROM hp
    WHERE status NOT IN ('REJECTED', 'REVERSED') GROUP BY channel, core, currency
  UNION ALL
  SELECT @run, 'core', COALESCE(p.channel, 'unknown'), c.core, c.currency,
      SUM(CASE c.kind WHEN 'APPLIED' THEN 1 ELSE -1 END),
      SUM(CASE c.kind WHEN 'APPLIED' THEN c.amount_minor ELSE -c.amount_minor END)
    FROM rc c LEFT JOIN payments p ON p.id = c.payment_id WHERE c.extract_date = @d GROUP BY 3, 4, 5
  UNION ALL
  SELECT @run, 'mainframe', p.channel, p.core, p.currency, COUNT(*), SUM(p.amount_minor)
    FROM rm m JOIN payments p ON p.id = m.payment_id WHERE m.result = 'P' GROUP BY 3, 4, 5
  UNION ALL
  SELECT @run, 'channel', s.channel, ${coreOfLoanSql('s.loan_number')}, s.currency, COUNT(*), SUM(s.amount_minor)
    FROM rs s WHERE s.line_date = @d GROUP BY 3, 4, 5`;
