import type { CodePage } from '../copybooks/code-page';
import { BatchError } from './batch-errors';
import { mainframeCodePage } from './mainframe-codec';
import { DEFAULT_RETRY, type RetryPolicy } from './mainframe-transfer';
import { parseClock } from './night-clock';
import { parseSftpSettings, type SftpSettings } from './sftp-settings';

// The batch bridge's settings, read from the environment once and validated:
//   LOANHUB_MAINFRAME_SFTP_URL / _KEY_FILE / _HOST_FINGERPRINT   the mainframe's SFTP endpoint
//   LOANHUB_MAINFRAME_CODEPAGE       EBCDIC page of the files (cp037)
//   LOANHUB_BATCH_CUTOFF             build and send after this time, bank time (23:30)
//   LOANHUB_BATCH_RESPONSE_DEADLINE  responses due by this time the next morning (06:00)
//   LOANHUB_BATCH_TICK_CRON          how often the schedule looks (node-cron, '* * * * *')
//   LOANHUB_BATCH_SCHEDULE           on|off: whether `loanhub start` runs the schedule (on)
//   LOANHUB_BATCH_SFTP_ATTEMPTS, LOANHUB_BATCH_SFTP_RETRY_BASE_MS, LOANHUB_BATCH_SFTP_RETRY_MAX_MS

export interface BatchSettings {
  readonly page: CodePage;
  readonly cutoffMinute: number;
  readonly deadlineMinute: number;
  readonly tickCron: string;
  readonly schedule: boolean;
  readonly sftp: SftpSettings | null;
  readonly retry: RetryPolicy;
}

export function batchSettingsFromEnv(env: NodeJS.ProcessEnv): BatchSettings {
  const clock = (name: string, fallback: string): number => {
    try {
      return parseClock(env[name] || fallback, name);
    } catch (err) {
      throw new BatchError('SFTP_CONFIG', (err as Error).message);
    }
  };
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < min) {
      throw new BatchError('SFTP_CONFIG', `${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
    }
    return Number(raw);
  };
  const schedule = env.LOANHUB_BATCH_SCHEDULE ?? 'on';
  if (schedule !== 'on' && schedule !== 'off') {
    throw new BatchError('SFTP_CONFIG', `LOANHUB_BATCH_SCHEDULE must be on or off, got ${JSON.stringify(schedule)}`);
  }
  const url = env.LOANHUB_MAINFRAME_SFTP_URL;
  return Object.freeze({
    page: mainframeCodePage(env.LOANHUB_MAINFRAME_CODEPAGE || undefined),
    cutoffMinute: clock('LOANHUB_BATCH_CUTOFF', '23:30'),
    deadlineMinute: clock('LOANHUB_BATCH_RESPONSE_DEADLINE', '06:00'),
    tickCron: env.LOANHUB_BATCH_TICK_CRON || '* * * * *',
    schedule: schedule === 'on',
    sftp: url
      ? parseSftpSettings(url, env.LOANHUB_MAINFRAME_SFTP_KEY_FILE, env.LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT)
      : null,
    retry: {
      attempts: int('LOANHUB_BATCH_SFTP_ATTEMPTS', DEFAULT_RETRY.attempts, 1),
      baseDelayMs: int('LOANHUB_BATCH_SFTP_RETRY_BASE_MS', DEFAULT_RETRY.baseDelayMs, 1),
      maxDelayMs: int('LOANHUB_BATCH_SFTP_RETRY_MAX_MS', DEFAULT_RETRY.maxDelayMs, 1),
    },
  });
}
