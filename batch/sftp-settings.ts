import fs from 'node:fs';
import { BatchError } from './batch-errors';

// LOANHUB_MAINFRAME_SFTP_URL (sftp://user@host:port/base), LOANHUB_MAINFRAME_SFTP_KEY_FILE (key login
// only) and LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT (SHA256:… as `ssh-keygen -lf` prints it). There is
// no setting that skips the host-key check.

export interface SftpSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Absolute path on the server. */
  readonly basePath: string;
  readonly keyFile: string;
  readonly hostFingerprint: string;
}

export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function parseSftpSettings(
  url: string,
  keyFile: string | undefined,
  fingerprint: string | undefined,
): SftpSettings {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new BatchError(
      'SFTP_CONFIG',
      `LOANHUB_MAINFRAME_SFTP_URL is not a URL: ${JSON.stringify(url)}`,
      {},
      { cause },
    );
  }
  if (u.protocol !== 'sftp:') throw new BatchError('SFTP_CONFIG', 'LOANHUB_MAINFRAME_SFTP_URL must start with sftp://');
  if (!u.username)
    throw new BatchError('SFTP_CONFIG', 'LOANHUB_MAINFRAME_SFTP_URL needs a user (sftp://user@host:port/base)');
  if (u.password) {
    throw new BatchError('SFTP_CONFIG', 'LOANHUB_MAINFRAME_SFTP_URL must not carry a password: key login only');
  }
  const decoded = decodeURIComponent(u.pathname);
  // '/' is the server's root: paths become /inbound and /outbound.
  const basePath = decoded.replace(/\/+$/, '');
  if (!decoded.startsWith('/')) {
    throw new BatchError('SFTP_CONFIG', 'LOANHUB_MAINFRAME_SFTP_URL needs an absolute base path on the server');
  }
  if (!keyFile)
    throw new BatchError('SFTP_CONFIG', 'LOANHUB_MAINFRAME_SFTP_KEY_FILE is required with LOANHUB_MAINFRAME_SFTP_URL');
  try {
    fs.accessSync(keyFile, fs.constants.R_OK);
  } catch (cause) {
    throw new BatchError('SFTP_CONFIG', `LOANHUB_MAINFRAME_SFTP_KEY_FILE ${keyFile} is not readable`, {}, { cause });
  }
  if (!fingerprint || !FINGERPRINT_PATTERN.test(fingerprint)) {
    throw new BatchError(
      'SFTP_CONFIG',
      "LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT must be the server key's SHA256:… fingerprint as `ssh-keygen -lf` prints it",
    );
  }
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 22,
    username: decodeURIComponent(u.username),
    basePath,
    keyFile,
    hostFingerprint: fingerprint,
  };
}
