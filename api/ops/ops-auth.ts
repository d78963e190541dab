import type { NextFunction, Request, Response } from 'express';
import type { ChannelCatalogue } from '../../channels/channel-catalogue';
import { HubError } from '../../domain/errors';
import type { Logger } from '../../logging/logger';
import { OPS_SCOPE } from '../auth/embedded-issuer';
import type { TokenVerifier } from '../auth/token-verifier';

// Bearer-token authentication for /ops/api and /ops/panels: a missing or bad token is 401
// `invalid_token` (the reason is logged, never sent); a token without ops:read, or any token of a channel
// client even if an IdP gave it ops:read, is 403 `insufficient_scope`. The ops client is not a channel.

export interface OpsCaller {
  readonly clientId: string;
}

export function requireOpsToken(deps: { verifier: TokenVerifier; catalogue: ChannelCatalogue; logger: Logger }) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header);
    if (!match?.[1]) {
      deps.logger.info(
        {
          requestId: res.locals.requestId,
          part: 'ops',
          reason: header ? 'malformed Authorization header' : 'no token',
        },
        'request refused: invalid_token',
      );
      return next(unauthorized());
    }
    const result = await deps.verifier.verify(match[1]);
    if (!result.ok) {
      deps.logger.info(
        { requestId: res.locals.requestId, part: 'ops', reason: result.reason },
        'request refused: invalid_token',
      );
      return next(unauthorized());
    }
    const { clientId, scopes } = result.token;
    const channel = deps.catalogue.channelOfClient(clientId);
    if (channel !== undefined || !scopes.has(OPS_SCOPE)) {
      deps.logger.info(
        { requestId: res.locals.requestId, part: 'ops', clientId, channel },
        channel !== undefined ? 'request refused: a channel client on /ops' : 'request refused: no ops:read',
      );
      return next(
        new HubError('insufficient_scope', `the ops pages need scope ${OPS_SCOPE} from an operations client`, {
          scope: OPS_SCOPE,
        }),
      );
    }
    const caller: OpsCaller = { clientId };
    res.locals.opsCaller = caller;
    next();
  };
}

function unauthorized(): HubError {
  return new HubError('invalid_token', 'the access token is missing, malformed, expired or not issued for this API');
}
