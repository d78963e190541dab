import { InvalidArgumentError, type Command } from 'commander';
import path from 'node:path';
import { startMainframeService } from '../bank/mainframe/mainframe-service';
import { mainframeCodePage } from '../batch/mainframe-codec';
import { loadConfig } from '../config/config';

// `loanhub simulate mainframe`: the bank's mainframe for the nightly files, on one machine.

function collect(value: string, previous: string[]): string[] {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError(`a loan number is 12 digits: ${value}`);
  return [...previous, value];
}

function port(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError(`not a port number: ${value}`);
  return Number(value);
}

export function registerSimulateMainframe(simulate: Command): void {
  simulate
    .command('mainframe')
    .description(
      'simulated mainframe: watches DIR/inbound for request files with a .OK trigger, checks and posts them, ' +
        'writes responses to DIR/outbound (temp name, rename, trigger)',
    )
    .requiredOption('--dir <dir>', 'the directory exchanged with the hub (inbound/ and outbound/ under it)')
    .option('--sftp-port <n>', 'also serve DIR over SFTP on this port (ssh2; host key under the data dir)', port)
    .option('--reject-loan <loan>', 'reject the details of this loan (reason ACCT); repeatable', collect, [])
    .option('--refuse-next-file <reason>', 'refuse the next file as a whole with this 4-character reason')
    .option('--codepage <name>', 'EBCDIC code page (default LOANHUB_MAINFRAME_CODEPAGE or cp037)')
    .action(
      async (opts: {
        dir: string;
        sftpPort?: number;
        rejectLoan: string[];
        refuseNextFile?: string;
        codepage?: string;
      }) => {
        if (opts.refuseNextFile !== undefined && !/^[A-Z0-9 ]{1,4}$/.test(opts.refuseNextFile)) {
          process.stderr.write(
            'loanhub simulate mainframe: --refuse-next-file takes 1-4 upper-case letters or digits\n',
          );
          process.exitCode = 2;
          return;
        }
        const config = loadConfig();
        const service = await startMainframeService({
          dataDir: config.dataDir,
          dir: path.resolve(opts.dir),
          page: mainframeCodePage(opts.codepage ?? process.env.LOANHUB_MAINFRAME_CODEPAGE ?? undefined),
          rejectLoans: opts.rejectLoan,
          ...(opts.refuseNextFile ? { refuseNextFile: opts.refuseNextFile } : {}),
          ...(opts.sftpPort !== undefined ? { sftpPort: opts.sftpPort } : {}),
          log: (msg, fields) => process.stderr.write(`mainframe: ${msg} ${fields ? JSON.stringify(fields) : ''}\n`),
        });
        process.stderr.write(`mainframe: watching ${service.dir}/inbound\n`);
        if (service.sftp) {
          process.stderr.write(
            `mainframe: SFTP on port ${service.sftp.port}\n  LOANHUB_MAINFRAME_SFTP_URL=${service.sftp.url}\n` +
              `  LOANHUB_MAINFRAME_SFTP_KEY_FILE=${service.sftp.keyFile}\n  LOANHUB_MAINFRAME_SFTP_HOST_FINGERPRINT=${service.sftp.hostFingerprint}\n`,
          );
        }
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            void service.close().then(resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      },
    );
}
