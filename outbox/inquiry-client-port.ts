import type { Core } from '../domain/channel';
import type { LoanInquiry } from '../domain/loan-inquiry';

// The port of a debt inquiry asked of a core worker in another process (the API and the core adapters
// run apart): rabbitmq-inquiry.ts implements it over RabbitMQ's direct reply-to. A core that does not
// answer is CoreUnavailableError (domain/loan-inquiry.ts).

export interface InquiryClient {
  inquire(core: Core, loanNumber: string): Promise<LoanInquiry | null>;
  close(): Promise<void>;
}
