import fs from 'node:fs';
import path from 'node:path';
import type { CodePage } from '../../copybooks/code-page';
import { startMainframeSimulator, type MainframeSimulator } from './mainframe-simulator';
import { startSftpDirServer, type SftpDirServer } from './sftp-dir-server';
import { ensureKeyPair } from './ssh-key-pair';

// The simulated mainframe as a service: the simulator over a directory, and (with an SFTP port) that
// directory served over SFTP with a host key generated under the data dir. For the embedded hub it
// also makes the hub's client key, authorizes it, and writes the connection the hub uses
// (<dataDir>/mainframe/sftp.json): the same key login and fingerprint check as in production.

export interface MainframeConnection {
  readonly url: string;
  readonly keyFile: string;
  readonly hostFingerprint: string;
}

export interface MainframeService {
  readonly dir: string;
  readonly simulator: MainframeSimulator;
  readonly sftp: (MainframeConnection & { readonly port: number }) | null;
  close(): Promise<void>;
}

export function embeddedConnectionFile(dataDir: string): string {
  return path.join(dataDir, 'mainframe', 'sftp.json');
}

export async function startMainframeService(opts: {
  readonly dataDir: string;
  readonly page: CodePage;
  /** The directory watched (and served); default <dataDir>/mainframe/root. */
  readonly dir?: string;
  /** Serve the directory over SFTP on this port (0 = a free one); undefined = no SFTP. */
  readonly sftpPort?: number;
  readonly host?: string;
  readonly rejectLoans?: readonly string[];
  readonly refuseNextFile?: string;
  readonly pollMs?: number;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}): Promise<MainframeService> {
  const home = path.join(opts.dataDir, 'mainframe');
  const dir = opts.dir ?? path.join(home, 'root');
  fs.mkdirSync(dir, { recursive: true });
  const simulator = startMainframeSimulator({
    dir,
    ledgerFile: path.join(home, 'ledger.jsonl'),
    page: opts.page,
    ...(opts.rejectLoans ? { rejectLoans: opts.rejectLoans } : {}),
    ...(opts.refuseNextFile ? { refuseNextFile: opts.refuseNextFile } : {}),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  let server: SftpDirServer | null = null;
  let sftp: MainframeService['sftp'] = null;
  if (opts.sftpPort !== undefined) {
    const client = ensureKeyPair(path.join(home, 'hub_client_key'), { comment: 'loanhub-hub' });
    server = await startSftpDirServer({
      root: dir,
      host: opts.host ?? '127.0.0.1',
      port: opts.sftpPort,
      hostKeyFile: path.join(home, 'host_key'),
      username: 'loanhub',
      authorizedKeys: [client.publicKey],
      ...(opts.log ? { onLog: opts.log } : {}),
    });
    sftp = {
      url: `sftp://loanhub@${server.host}:${server.port}/`,
      keyFile: client.privateKeyFile,
      hostFingerprint: server.hostFingerprint,
      port: server.port,
    };
    fs.writeFileSync(embeddedConnectionFile(opts.dataDir), `${JSON.stringify(sftp, null, 2)}\n`);
  }
  return {
    dir,
    simulator,
    sftp,
    close: async () => {
      await simulator.close();
      await server?.close();
    },
  };
}
