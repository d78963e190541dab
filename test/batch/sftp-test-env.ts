import fs from 'node:fs';
import path from 'node:path';

// The real OpenSSH server that scripts/test.sh starts (scripts/test-servers/start.sh): key login, SFTP
// only, pinned host key. Each suite gets a directory of its own under the served root.

export interface TestSftp {
  readonly env: NodeJS.ProcessEnv;
  /** The directory on this machine that the server serves at the URL's base path. */
  readonly dir: string;
  readonly serversDir: string;
  /** Ends every open SFTP connection (the servers' fault-injection script). */
  readonly dropScript: string;
}

export function testSftp(suite: string): TestSftp {
  const url = process.env.LOANHUB_TEST_SFTP_URL;
  const key = process.env.LOANHUB_TEST_SFTP_KEY_FILE;
  const fp = process.env.LOANHUB_TEST_SFTP_HOST_FINGERPRINT;
  const root = process.env.LOANHUB_TEST_SFTP_DIR;
  const servers = process.env.LOANHUB_TEST_SERVERS_DIR;
  if (!url || !key || !fp || !root || !servers) {
    throw new Error(
      'LOANHUB_TEST_SFTP_* is not set: run the suite with `npm test` (it starts OpenSSH), or export what scripts/test-servers/start.sh prints',
    );
  }
  const dir = fs.mkdtempSync(path.join(root, `${suite}-`));
  return {
    dir,
    serversDir: servers,
    dropScript: path.join(servers, 'sftp', 'drop-connections'),
    env: {
      LOANHUB_MAINFRAME_SFTP_URL: `${url}${dir}`,
      LOANHUB_MAINFRAME_SFTP_KEY_FILE: key,
      LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT: fp,
      LOANHUB_BATCH_SCHEDULE: 'off',
      LOANHUB_BATCH_SFTP_ATTEMPTS: '4',
      LOANHUB_BATCH_SFTP_RETRY_BASE_MS: '50',
      LOANHUB_BATCH_SFTP_RETRY_MAX_MS: '200',
    },
  };
}
