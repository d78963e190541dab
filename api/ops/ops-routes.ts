import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { ChannelCatalogue } from '../../channels/channel-catalogue';
import type { BusinessCalendar } from '../../domain/business-calendar';
import { businessDateOf } from '../../domain/business-date';
import { HubError } from '../../domain/errors';
import type { Logger } from '../../logging/logger';
import type { HubMetrics } from '../../metrics/hub-metrics';
import { buildDailyStatement } from '../../reports/daily-statement';
import { statementToJson } from '../../reports/daily-statement-json';
import type { PaymentStore } from '../../store/store-port';
import type { TokenVerifier } from '../auth/token-verifier';
import { requireOpsToken } from './ops-auth';
import { gatherOverview, overviewToJson } from './ops-overview';
import { OPS_PAGE_CSS, OPS_PAGE_HTML, OPS_PAGE_JS } from './ops-page';
import { renderOpsPanels } from './ops-panels';
import { reconProviderOf, type OpsReconProvider } from './ops-recon-provider';

// /ops: the operations page (read-only). The shell, its script and stylesheet carry no data and are
// served to anyone; every figure comes from /ops/panels and /ops/api/*, which need an ops:read token of
// a non-channel client. Every /ops response has a CSP that allows only this origin and no inline code.

export interface OpsDeps {
  readonly store: PaymentStore;
  readonly verifier: TokenVerifier;
  readonly catalogue: ChannelCatalogue;
  readonly logger: Logger;
  readonly metrics: HubMetrics;
  readonly timeZone: string;
  readonly now: () => Date;
  /** Without ?date= the page shows today's business date: a weekend or holiday shows the next business day. */
  readonly calendar?: BusinessCalendar;
  readonly recon?: OpsReconProvider;
}

const OPS_CSP = helmet.contentSecurityPolicy({
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
  },
});

export function createOpsRouter(deps: OpsDeps): Router {
  const router = express.Router();
  const auth = requireOpsToken(deps);
  const recon = deps.recon ?? reconProviderOf(deps.store.recon);
  router.use(OPS_CSP, (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.get('/', (_req, res) => {
    res.type('html').send(OPS_PAGE_HTML);
  });
  router.get('/ops.js', (_req, res) => {
    res.type('text/javascript').send(OPS_PAGE_JS);
  });
  router.get('/ops.css', (_req, res) => {
    res.type('text/css').send(OPS_PAGE_CSS);
  });

  const dateOf = (req: Request): string => {
    const extra = Object.keys(req.query).filter((k) => k !== 'date');
    if (extra.length > 0)
      throw new HubError('unknown_query_parameter', `unknown query parameter ${extra[0]?.slice(0, 40)}`);
    const raw = req.query.date;
    if (raw === undefined || raw === '') {
      const today = businessDateOf(deps.now(), deps.timeZone);
      return deps.calendar ? deps.calendar.onOrAfter(today) : today;
    }
    if (typeof raw !== 'string' || !isIsoDate(raw)) {
      throw new HubError('invalid_business_date', 'date must be a calendar date as YYYY-MM-DD');
    }
    return raw;
  };
  const reportsOf = () => {
    if (!deps.store.reports)
      throw new HubError('service_unavailable', `the ${deps.store.kind} store has no reports yet`);
    return deps.store.reports;
  };
  const overview = (req: Request) =>
    gatherOverview({
      store: deps.store,
      registry: deps.metrics.registry,
      recon,
      businessDate: dateOf(req),
      now: deps.now(),
    });
  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response, next: NextFunction): void => {
      fn(req, res).catch(next);
    };

  router.get(
    '/panels',
    auth,
    handle(async (req, res) => {
      reportsOf();
      res.type('html').send(renderOpsPanels(await overview(req)));
    }),
  );
  router.get(
    '/api/overview',
    auth,
    handle(async (req, res) => {
      reportsOf();
      res.json(overviewToJson(await overview(req)));
    }),
  );
  router.get(
    '/api/daily',
    auth,
    handle(async (req, res) => {
      const date = dateOf(req);
      res.json(statementToJson(await buildDailyStatement(reportsOf(), date, deps.now())));
    }),
  );
  return router;
}

function isIsoDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}
