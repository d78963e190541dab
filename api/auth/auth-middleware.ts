import type { NextFunction, Request, Response } from 'express';
import type { Channel } from '../../domain/channel';
import { HubError } from '../../domain/errors';
import type { Logger } from '../../logging/logger';
import type { ChannelCatalogue } from '../../channels/channel-catalogue';
import type { Scope } from './embedded-issuer';
import type { TokenVerifier } from './token-verifier';

// Bearer-token authentication for channel routes: a missing or bad token is 401 `invalid_token`
// (the reason is logged, never sent), another channel's token is 403, a missing scope is 403.

export interface Caller {
  readonly clientId: string;
  readonly channel: Channel;
  readonly scopes: ReadonlySet<string>;
}

export function requireChannelToken(deps: { verifier: TokenVerifier; catalogue: ChannelCatalogue; logger: Logger }) {
  return (scope: Scope) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const channel = res.locals.channel as Channel;
      const header = req.get('authorization') ?? '';
      const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
      if (!match?.[1]) {
        deps.logger.info(
          { requestId: res.locals.requestId, channel, reason: header ? 'malformed Authorization header' : 'no token' },
          'request refused: invalid_token',
        );
        return next(unauthorized());
      }
      const result = await deps.verifier.verify(match[1]);
      if (!result.ok) {
        deps.logger.info(
          { requestId: res.locals.requestId, channel, reason: result.reason },
          'request refused: invalid_token',
        );
        return next(unauthorized());
      }
      const tokenChannel = deps.catalogue.channelOfClient(result.token.clientId);
      if (tokenChannel !== channel) {
        deps.logger.info(
          { requestId: res.locals.requestId, channel, clientId: result.token.clientId },
          'request refused: token of another channel',
        );
        return next(new HubError('forbidden_channel', `this token may not act for channel ${channel}`));
      }
      if (!result.token.scopes.has(scope)) {
        return next(new HubError('insufficient_scope', `this endpoint needs scope ${scope}`, { scope }));
      }
      const caller: Caller = { clientId: result.token.clientId, channel, scopes: result.token.scopes };
      res.locals.caller = caller;
      next();
    };
}

function unauthorized(): HubError {
  return new HubError('invalid_token', 'the access token is missing, malformed, expired or not issued for this API');
}
