import type { Currency, MinorUnits } from '../domain/money';

// A payment as a channel asks for it, after the API has parsed and normalised the body: what the
// channel rules check (channel-rules.ts) and acceptPayment takes (accept-payment.ts).

export interface PaymentRequest {
  readonly loanNumber: string;
  readonly amount: MinorUnits;
  readonly currency: Currency;
  readonly channelReference: string;
}
