import { redactUrl } from './rabbitmq-connection';

// What AMQP cannot tell: how many messages consumers hold unacked. The RabbitMQ management HTTP API has
// it (GET /api/queues/{vhost}, `messages_unacknowledged`), when LOANHUB_AMQP_MANAGEMENT_URL points at
// it. Its figures are the broker's statistics, refreshed every collect_statistics_interval (5 s by
// default), so they lag the AMQP counts by up to that much.

export interface ManagementQueue {
  readonly name: string;
  readonly unacked: number;
}

export type ManagementAnswer =
  | { readonly kind: 'ok'; readonly queues: ReadonlyMap<string, ManagementQueue> }
  /** Why there is no figure, in words an operator can act on. */
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface ManagementOptions {
  /** The management API's base URL (http(s)://[user:pass@]host:15672[/prefix]). */
  readonly managementUrl: string;
  /** The broker's AMQP URL: its vhost is the one asked about, its credentials the fallback. */
  readonly amqpUrl: string;
  readonly timeoutMs?: number;
}

/** The queues of the AMQP URL's vhost as the management API sees them; never throws. */
export async function readManagementQueues(opts: ManagementOptions): Promise<ManagementAnswer> {
  let base: URL;
  let amqp: URL;
  try {
    base = new URL(opts.managementUrl);
    amqp = new URL(opts.amqpUrl);
  } catch {
    return { kind: 'unavailable', reason: 'LOANHUB_AMQP_MANAGEMENT_URL or LOANHUB_AMQP_URL is not a URL' };
  }
  const where = redactUrl(opts.managementUrl);
  // fetch refuses URLs that carry credentials: they go into the Authorization header instead
  const user = decodeURIComponent(base.username || amqp.username || 'guest');
  const pass = decodeURIComponent(base.password || amqp.password || 'guest');
  base.username = '';
  base.password = '';
  const vhost = amqp.pathname.length > 1 ? decodeURIComponent(amqp.pathname.slice(1)) : '/';
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = new URL(`${prefix}/api/queues/${encodeURIComponent(vhost)}`, base);
  url.searchParams.set('columns', 'name,messages_unacknowledged');
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
    return { kind: 'unavailable', reason: `management API at ${where} did not answer (${cause ?? String(err)})` };
  }
  if (!res.ok) {
    await res.body?.cancel();
    const hint =
      res.status === 401
        ? ': wrong user or password'
        : res.status === 404
          ? `: no vhost ${vhost}, or not a management API`
          : '';
    return { kind: 'unavailable', reason: `management API at ${where} answered HTTP ${res.status}${hint}` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { kind: 'unavailable', reason: `management API at ${where} answered something that is not JSON` };
  }
  if (!Array.isArray(body)) {
    return { kind: 'unavailable', reason: `management API at ${where} did not answer a list of queues` };
  }
  const queues = new Map<string, ManagementQueue>();
  for (const q of body as unknown[]) {
    if (typeof q !== 'object' || q === null) continue;
    const { name, messages_unacknowledged: unacked } = q as { name?: unknown; messages_unacknowledged?: unknown };
    // a queue the statistics have not reached yet has no figure; it is left out rather than shown as 0
    if (typeof name === 'string' && typeof unacked === 'number') queues.set(name, { name, unacked });
  }
  return { kind: 'ok', queues };
}
