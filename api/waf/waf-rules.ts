import type { ErrorCode } from '../../domain/errors';

// The in-app WAF's rules, each with a stable id that appears in the block log line and the metrics.
// The AWS WAF in terraform/ stands in front; these catch what reaches the app anyway.

export const WAF_RULES: Partial<Record<ErrorCode, string>> = {
  malformed_json: 'WAF-100-JSON-SYNTAX',
  body_not_object: 'WAF-101-JSON-SHAPE',
  unknown_field: 'WAF-102-UNKNOWN-FIELD',
  json_too_deep: 'WAF-103-JSON-DEPTH',
  json_too_many_keys: 'WAF-104-JSON-KEYS',
  invalid_field_type: 'WAF-105-FIELD-TYPE',
  unsupported_media_type: 'WAF-110-CONTENT-TYPE',
  payload_too_large: 'WAF-111-BODY-SIZE',
  invalid_loan_number: 'WAF-120-LOAN-NUMBER',
  invalid_channel_reference: 'WAF-121-REFERENCE',
  idempotency_key_invalid: 'WAF-122-IDEMPOTENCY-KEY',
  invalid_payment_id: 'WAF-123-PAYMENT-ID',
  unknown_query_parameter: 'WAF-124-QUERY',
  suspicious_input: 'WAF-150-INJECTION',
  rate_limited: 'WAF-130-RATE-LIMIT',
  source_network_not_allowed: 'WAF-140-SOURCE-NETWORK',
};

export function wafRuleOf(code: ErrorCode): string | undefined {
  return WAF_RULES[code];
}
