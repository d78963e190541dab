// The upload leg to the mainframe as a small port (after moov-io/achgateway's Agent): one connection's
// file operations. Retries, verification and the safe-rename protocol wrap it (mainframe-transfer.ts);
// the implementation only speaks SFTP.

export interface RemoteEntry {
  readonly name: string;
  readonly size: number;
}

export interface SftpAgent {
  /** Uploads a local file to `remote` (created or truncated); `onBytes` hears the bytes read so far. */
  upload(localPath: string, remote: string, onBytes?: (bytes: number) => void): Promise<void>;
  /** Size in bytes, or null when there is no such file. */
  size(remote: string): Promise<number | null>;
  /** SHA-256 (hex) of the remote file, read back over the connection. */
  sha256(remote: string): Promise<string>;
  /** Renames; fails when `to` exists. */
  rename(from: string, to: string): Promise<void>;
  writeEmpty(remote: string): Promise<void>;
  list(dir: string): Promise<RemoteEntry[]>;
  download(remote: string, localPath: string): Promise<void>;
  remove(remote: string): Promise<void>;
  mkdirp(dir: string): Promise<void>;
  close(): Promise<void>;
}

export interface SftpConnector {
  /** Where it connects, for messages (never a secret). */
  readonly describe: string;
  /** The absolute base path on the server: requests go to `<base>/inbound`, responses come from `<base>/outbound`. */
  readonly basePath: string;
  connect(): Promise<SftpAgent>;
}
