import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { OPS_CLIENT_ID, openEmbeddedIssuer, type EmbeddedIssuer } from '../../api/auth/embedded-issuer';
import { createChannelCatalogue } from '../../channels/channel-catalogue';
import { main } from '../../cli/main';

// The embedded issuer's operations client: it exists beside the channel clients, is not one of them,
// and only ever gets ops:read; a channel client never gets ops:read.

describe('the embedded issuer’s ops client', () => {
  let dir: string;
  let issuer: EmbeddedIssuer;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loanhub-ops-client-'));
    issuer = await openEmbeddedIssuer({
      dataDir: dir,
      issuer: 'http://127.0.0.1/test',
      audience: 'loanhub-api',
      ttlSeconds: 300,
      catalogue: createChannelCatalogue({}),
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is not a channel client and authenticates with its own secret', () => {
    const ops = issuer.opsClient();
    expect(ops.clientId).toBe(OPS_CLIENT_ID);
    expect(issuer.clients().map((c) => c.clientId)).not.toContain(OPS_CLIENT_ID);
    expect(issuer.authenticateClient(ops.clientId, ops.secret)).toBe(true);
    expect(issuer.authenticateClient(ops.clientId, `${ops.secret}x`)).toBe(false);
  });

  it('gets a token with ops:read only, and may not ask for a channel scope', async () => {
    const token = await issuer.issueToken(OPS_CLIENT_ID);
    expect(decodeJwt(token.access_token)).toMatchObject({ client_id: OPS_CLIENT_ID, scope: 'ops:read' });
    await expect(issuer.issueToken(OPS_CLIENT_ID, ['payments:write'])).rejects.toThrow(/may not have scope/);
  });

  it('a channel client never gets ops:read, and its default scopes do not include it', async () => {
    const app = issuer.clients().find((c) => c.channel === 'app');
    if (!app) throw new Error('no app client');
    await expect(issuer.issueToken(app.clientId, ['ops:read'])).rejects.toThrow(/may not have scope ops:read/);
    expect(decodeJwt((await issuer.issueToken(app.clientId)).access_token).scope).toBe(
      'loans:read payments:write payments:reverse',
    );
  });

  it('keeps the same ops secret when the issuer is opened again (a CLI and a running hub share it)', async () => {
    const again = await openEmbeddedIssuer({
      dataDir: dir,
      issuer: 'http://127.0.0.1/test',
      audience: 'loanhub-api',
      ttlSeconds: 300,
      catalogue: createChannelCatalogue({}),
    });
    expect(again.opsClient().secret).toBe(issuer.opsClient().secret);
    expect(fs.statSync(path.join(dir, 'identity', 'ops-client.json')).mode & 0o777).toBe(0o600);
  });

  describe('loanhub ops client|token (same data dir)', () => {
    const saved = { ...process.env };
    let written: string[];
    let spy: jest.SpyInstance;
    beforeEach(() => {
      process.env.LOANHUB_DATA_DIR = dir;
      written = [];
      spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    });
    afterEach(() => {
      spy.mockRestore();
      process.env = { ...saved };
    });

    it('ops client --json prints the ops client’s id and secret', async () => {
      expect(await main(['node', 'loanhub', 'ops', 'client', '--json'])).toBe(0);
      expect(JSON.parse(written.join(''))).toEqual({
        clientId: OPS_CLIENT_ID,
        clientSecret: issuer.opsClient().secret,
      });
    });

    it('ops token prints an ops:read token the hub’s issuer signed', async () => {
      expect(await main(['node', 'loanhub', 'ops', 'token'])).toBe(0);
      expect(decodeJwt(written.join('').trim())).toMatchObject({ client_id: OPS_CLIENT_ID, scope: 'ops:read' });
    });
  });
});
