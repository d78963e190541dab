import type { LoanInquiry } from '../../domain/loan-inquiry';
import type { Core } from '../../domain/channel';
import { coreForLoan, isLoanNumber } from '../../domain/core-routing';
import { formatAmount } from '../../domain/money';
import type { ChannelRouteKit } from '../channel-route-kit';
import type { RouteTable } from '../channel-router';
import { problem } from '../problem';

// GET /v1/{channel}/loans/{loanNumber}: debt inquiry (consulta de deuda) through the loan's core.

export function mountLoanRoutes(
  router: RouteTable,
  kit: ChannelRouteKit,
  inquire: (core: Core, loanNumber: string) => Promise<LoanInquiry | null>,
): void {
  router.get('/loans/:loanNumber', kit.auth('loans:read'), kit.noQuery, async (req, res, next) => {
    try {
      const loanNumber = String(req.params.loanNumber);
      if (!isLoanNumber(loanNumber)) throw problem('invalid_loan_number', 'loanNumber must be exactly 12 digits');
      const core = coreForLoan(loanNumber);
      const loan = core ? await inquire(core, loanNumber) : null;
      if (!loan) throw problem('loan_not_found', `no loan ${loanNumber}`);
      res.set('Cache-Control', 'no-store').json({
        loanNumber: loan.loanNumber,
        core: loan.core,
        currency: loan.currency,
        amountDue: formatAmount(loan.amountDue),
        status: loan.status,
      });
    } catch (err) {
      next(err);
    }
  });
}
