import type { Command } from 'commander';
import { rotateSigningKey } from '../api/auth/embedded-issuer';
import { loadConfig } from '../config/config';

// `loanhub keys rotate`: a new signing key for the embedded issuer. A running hub signs with it from its
// next token on; the previous keys stay in the JWKS until every token they signed has expired.

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description("the embedded issuer's signing keys");
  keys
    .command('rotate')
    .description('make a new signing key current; earlier keys stay valid until their tokens expire')
    .option('--json', 'print { kid, retired } as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      const result = await rotateSigningKey({ dataDir: config.dataDir, keepSeconds: config.tokenTtlSeconds + 60 });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      process.stdout.write(
        `new signing key ${result.kid}${result.retired.length > 0 ? `; retired ${result.retired.join(', ')}` : ''}\n`,
      );
    });
}
