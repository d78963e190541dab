// Errors the mainframe simulator's SSH side throws while starting up. Each has a stable code so the
// CLI that starts the simulator can tell an operator exactly what to fix.

export const sshServerErrorCatalogue = {
  ssh_key_invalid: 'a key file or key line could not be read as an SSH key',
  ssh_key_not_private: 'the host key file holds a public key; the server needs the private key',
  authorized_key_invalid: 'an authorized key is not an OpenSSH public key line',
  sftp_root_invalid: 'the directory to serve is missing and cannot be created, or is not a directory',
} as const;

export type SshServerErrorCode = keyof typeof sshServerErrorCatalogue;

export class SshServerError extends Error {
  override readonly name = 'SshServerError';

  constructor(
    readonly code: SshServerErrorCode,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}
