import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { hasFullLoanNumber } from '../../logging/loan-number-mask';
import { createLogger } from '../../logging/logger';
import { api, eventually, sampleReference, startTestHub } from '../integration/hub-fixture';

// Loan numbers are masked to their last 4 digits in every log line, wherever they sit in it; tested
// like the token redaction: through the logger itself, and over every line a working hub writes.

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination: sink }) };
}

describe('the logger masks loan numbers', () => {
  it('in fields, nested objects, messages, paths, arrays and error messages and stacks', () => {
    const { lines, logger } = capture();
    logger.info({ loanNumber: '100000000001' }, 'field');
    logger.child({ part: 'relay' }).info({ command: { loan: { number: '200000000042' } } }, 'nested');
    logger.info('payment refused: no loan 300000000777');
    logger.info({ path: '/v1/app/loans/100000009876', loans: ['100000000011', '200000000022'] }, 'path');
    logger.error({ err: new Error('core answered about loan 100000001234') }, 'error');
    const all = lines.join('\n');
    for (const last4 of ['0001', '0042', '0777', '9876', '0011', '0022', '1234'])
      expect(all).toContain(`********${last4}`);
    expect(hasFullLoanNumber(all)).toBe(false);
    expect(lines.every((l) => typeof JSON.parse(l) === 'object')).toBe(true);
  });

  it('leaves what is not a loan number alone: epoch milliseconds, amounts, UUIDs, receipt numbers', () => {
    const { lines, logger } = capture();
    const paymentId = '01927f3a-1b2c-7d4e-8f60-123456789012';
    logger.info(
      { at: 1795453200123, amount: '125000.50', paymentId, receipt: 'A-20261123-4821-0937', code: '1234567890123' },
      'kept',
    );
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({
      at: 1795453200123,
      amount: '125000.50',
      paymentId,
      receipt: 'A-20261123-4821-0937',
      code: '1234567890123',
    });
  });
});

describe('a working hub logs no loan number in full', () => {
  it('inquiries, payments, refusals and core results leave only masked loan numbers in the log', async () => {
    const t = await startTestHub();
    try {
      const token = await t.token('app');
      expect((await api(`${t.url}/v1/app/loans/100000000001`, { token })).status).toBe(200);
      expect((await api(`${t.url}/v1/app/loans/990000000123`, { token })).status).toBe(404);
      const paid = await api(`${t.url}/v1/app/payments`, {
        token,
        body: { loanNumber: '200000000001', amount: '5.00', currency: 'PEN', channelReference: sampleReference('app') },
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(paid.status).toBe(201);
      // A closed loan: the core rejects the payment, and that path logs too.
      const closed = await api(`${t.url}/v1/app/payments`, {
        token,
        body: { loanNumber: '100000000009', amount: '5.00', currency: 'PEN', channelReference: sampleReference('app') },
        headers: { 'idempotency-key': randomUUID() },
      });
      expect(closed.status).toBe(201);
      await eventually(async () => {
        const r = await api(`${t.url}/v1/app/payments/${String(closed.json.paymentId)}`, { token });
        return r.json.status === 'REJECTED' ? r : undefined;
      });
      const all = t.logLines.join('\n');
      expect(hasFullLoanNumber(all)).toBe(false);
      // The lines did name the loans, masked: the refusal of the unknown loan says which one.
      expect(all).toContain('********0123');
    } finally {
      await t.stop();
    }
  });
});
