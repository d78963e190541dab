import { BatchError } from './batch-errors';
import type { SftpAgent, SftpConnector } from './sftp-agent-port';

// The safe way to hand a file to the mainframe: upload under a temporary name, check the remote size,
// read it back and compare SHA-256, rename to the final name, then write an empty `<name>.OK` trigger.
// The mainframe only picks up files with a trigger, so it never sees a partial file under a final
// name. A dropped connection or a failed check retries on a new connection with exponential backoff
// and full jitter (bounded), then gives up with the reason.

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ attempts: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 });

export function inboundPath(base: string, name: string): string {
  return `${base}/inbound/${name}`;
}

export function outboundPath(base: string, name: string): string {
  return `${base}/outbound/${name}`;
}

export async function withRetries<T>(
  policy: RetryPolicy,
  work: (attempt: number) => Promise<T>,
  onRetry: (attempt: number, err: unknown, delayMs: number) => void,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (err) {
      // A host key that does not match will not match on the next try: fail at once.
      if (err instanceof BatchError && (err.code === 'SFTP_HOST_KEY' || err.code === 'SFTP_CONFIG')) throw err;
      if (attempt >= policy.attempts) throw err;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.floor(random() * cap);
      onRetry(attempt, err, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function withAgent<T>(connector: SftpConnector, work: (agent: SftpAgent) => Promise<T>): Promise<T> {
  const agent = await connector.connect();
  try {
    return await work(agent);
  } finally {
    await agent.close();
  }
}

/** One attempt of the protocol on an open connection. Idempotent: a final file already there with the same bytes only gets its trigger. */
export async function uploadVerified(
  agent: SftpAgent,
  base: string,
  file: { readonly name: string; readonly localPath: string; readonly sha256: string; readonly size: number },
  onBytes?: (bytes: number) => void,
): Promise<'uploaded' | 'already_there'> {
  const final = inboundPath(base, file.name);
  const existing = await agent.size(final);
  if (existing !== null) {
    const remoteSha = existing === file.size ? await agent.sha256(final) : null;
    if (remoteSha !== file.sha256) {
      throw new BatchError(
        'SFTP_TRANSFER',
        `${final} already exists on the server with other content; not overwritten`,
        {
          file: file.name,
          stated: `${file.size} bytes sha256 ${file.sha256}`,
          computed: `${existing} bytes sha256 ${remoteSha ?? '(size differs)'}`,
        },
      );
    }
    if ((await agent.size(`${final}.OK`)) === null) await agent.writeEmpty(`${final}.OK`);
    return 'already_there';
  }
  const temp = inboundPath(base, `.${file.name}.part`);
  await agent.upload(file.localPath, temp, onBytes);
  const size = await agent.size(temp);
  if (size !== file.size) {
    throw new BatchError('SFTP_TRANSFER', 'the uploaded file has another size than the local one', {
      file: file.name,
      stated: String(file.size),
      computed: String(size),
    });
  }
  const sha = await agent.sha256(temp);
  if (sha !== file.sha256) {
    throw new BatchError('SFTP_TRANSFER', 'the uploaded file read back has another SHA-256 than the local one', {
      file: file.name,
      stated: file.sha256,
      computed: sha,
    });
  }
  await agent.rename(temp, final);
  await agent.writeEmpty(`${final}.OK`);
  return 'uploaded';
}

/** Response files in `<base>/outbound` that have their `.OK` trigger. */
export async function listReadyResponses(agent: SftpAgent, base: string): Promise<string[]> {
  const entries = await agent.list(`${base}/outbound`);
  const names = new Set(entries.map((e) => e.name));
  return entries
    .map((e) => e.name)
    .filter((n) => n.startsWith('LHUB.RSP.') && !n.endsWith('.OK') && names.has(`${n}.OK`))
    .sort();
}
