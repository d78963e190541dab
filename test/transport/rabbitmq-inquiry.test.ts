import { CoreUnavailableError, type LoanInquiry } from '../../adapters/core-port';
import { minorUnits } from '../../domain/money';
import { createLogger } from '../../logging/logger';
import { createRabbitMqInquiryClient, serveRabbitMqInquiries } from '../../outbox/rabbitmq-inquiry';

// Debt inquiry as request/reply over a real RabbitMQ (direct reply-to), as serve and work use it.

const url = process.env.LOANHUB_TEST_AMQP_URL;
const logger = createLogger({ level: 'silent' });

describe('debt inquiry over the broker', () => {
  beforeAll(() => {
    if (!url) throw new Error('LOANHUB_TEST_AMQP_URL is not set: run the suite with `npm test`, which starts RabbitMQ');
  });

  it('a worker answers with the loan, "not found", or "core unavailable"; nobody answering is a timeout', async () => {
    const brokerUrl = url ?? '';
    const loan: LoanInquiry = {
      loanNumber: '100000000001',
      core: 'cash',
      currency: 'PEN',
      amountDue: minorUnits(2_500_050n),
      status: 'ACTIVE',
    };
    const server = await serveRabbitMqInquiries({
      url: brokerUrl,
      cores: ['cash'],
      logger,
      inquire: async (_core, loanNumber) => {
        if (loanNumber === '100000000001') return loan;
        if (loanNumber === '100000000666') throw new CoreUnavailableError('cash', 'down', true);
        return null;
      },
    });
    const client = createRabbitMqInquiryClient({ url: brokerUrl, timeoutMs: 1500, logger });
    try {
      await expect(client.inquire('cash', '100000000001')).resolves.toEqual(loan);
      await expect(client.inquire('cash', '100000000404')).resolves.toBeNull();
      await expect(client.inquire('cash', '100000000666')).rejects.toMatchObject({
        code: 'core_unavailable',
        retryable: true,
      });
      // No worker serves the vehicle core in this test: the request times out.
      await expect(client.inquire('vehicle', '300000000001')).rejects.toBeInstanceOf(CoreUnavailableError);
      // Many at once are matched to their own answers.
      const many = await Promise.all(
        Array.from({ length: 50 }, (_, i) => client.inquire('cash', i % 2 === 0 ? '100000000001' : '100000000404')),
      );
      expect(many.filter((x) => x !== null)).toHaveLength(25);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
