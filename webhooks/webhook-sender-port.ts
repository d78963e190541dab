// The port of a webhook delivery's HTTP leg: the dispatcher sends through it; http-sender.ts is the
// implementation (tests and benchmarks pass their own).

export type SendOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly retryAfter: string | null }
  | { readonly kind: 'timeout'; readonly afterMs: number }
  | { readonly kind: 'network'; readonly code: string };

export interface WebhookSender {
  send(url: URL, headers: Readonly<Record<string, string>>, body: string): Promise<SendOutcome>;
  close(): void;
}
