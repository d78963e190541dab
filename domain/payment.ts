import type { Channel, Core } from './channel';
import type { Currency, MinorUnits } from './money';
import type { PaymentStatus } from './payment-state';

export interface Payment {
  readonly id: string;
  readonly receiptNumber: string;
  readonly channel: Channel;
  readonly clientId: string;
  readonly channelReference: string;
  readonly loanNumber: string;
  readonly core: Core;
  readonly amount: MinorUnits;
  readonly currency: Currency;
  readonly businessDate: string;
  readonly status: PaymentStatus;
  readonly reason: string | null;
  readonly coreReference: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}
