// Loan numbers never appear in full in a log line: every 12-digit run is cut to its last 4 digits
// (`********0001`), wherever it is — a field, a message, a URL path, an error's message or stack. A
// loan number identifies a customer's debt; the last 4 digits are enough to find a payment in the
// logs together with its paymentId, the way a receipt shows a card number.
//
// It works on the finished line, so no caller can forget it. A digit run of another length (epoch
// milliseconds, amounts) is left alone, and so is the 12-hex-digit tail of a UUID that happens to be
// all digits (it follows four hex digits and a dash).

const LOAN_NUMBER_RUN = /(?<![0-9A-Za-z])(?<![0-9A-Fa-f]{4}-)[0-9]{8}([0-9]{4})(?![0-9A-Za-z])/g;

export function maskLoanNumbers(line: string): string {
  return line.replace(LOAN_NUMBER_RUN, '********$1');
}

/** Whether a text still carries a loan number in full (what tests assert never reaches a log). */
export function hasFullLoanNumber(text: string): boolean {
  LOAN_NUMBER_RUN.lastIndex = 0;
  const found = LOAN_NUMBER_RUN.test(text);
  LOAN_NUMBER_RUN.lastIndex = 0;
  return found;
}
