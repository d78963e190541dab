// The hub's import layers, enforced by `npm run lint` (dependency-cruiser). docs/architecture.md,
// section "Layers", says the same in prose; test/architecture/layers.test.ts plants wrong imports in a
// copy of the tree and shows that each rule below fails on them.
//
// A rule names the folder a file lives in and the hub folders it may import; anything else of the hub
// is an error. npm packages and node: built-ins are free, except the database drivers (only store/).
// test/, bench/ and scripts/ may import anything (they are not cruised as "from" by the rules).

/** Every top-level folder of the hub's own code. */
const HUB = [
  'adapters',
  'api',
  'bank',
  'batch',
  'channels',
  'cli',
  'config',
  'copybooks',
  'domain',
  'logging',
  'metrics',
  'outbox',
  'payments',
  'recon',
  'reports',
  'runtime',
  'store',
  'webhooks',
];

/** A port: a file of its own, named *-port.ts, in the folder of the concern it serves. */
const PORT = '^(store|outbox|adapters|batch|webhooks)/[^/]+-port\\.ts$';

const folders = (...names) => `^(${names.join('|')})/`;

/** The store's ports: how everything outside store/ (but the composition) reaches a table. */
const STORE_PORTS = '^store/[^/]+-port\\.ts$';

/**
 * Files under `folder` may import their own folder and the hub paths matching `allowed` (regular
 * expressions, folder prefixes or single files), nothing else of the hub.
 */
function layer(folder, comment, allowed) {
  return {
    name: `layer-${folder}`,
    comment,
    severity: 'error',
    from: { path: `^${folder}/` },
    to: {
      path: folders(...HUB.filter((f) => f !== folder)),
      pathNot: allowed.length > 0 ? allowed : ['^$'],
    },
  };
}

/** The files of adapters/<core>/ that state a core's wire contract (paths, headers, field codecs). */
const CORE_WIRE_CONTRACTS =
  '^adapters/(cash/cash-(contract|json-codec)|mortgage/mortgage-(contract|decimal)|vehicle/vehicle-(contract|fields|message))\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles anywhere in the hub: split the shared part into a file both sides import.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'ports-import-only-domain',
      comment:
        'A port (*-port.ts) is the seam its implementations import; it imports only domain/ and other ports, never an implementation.',
      severity: 'error',
      from: { path: PORT },
      to: { path: folders(...HUB), pathNot: ['^domain/', PORT] },
    },
    {
      name: 'db-drivers-only-in-store',
      comment:
        'Nothing outside store/ opens a database or imports a driver (bank/ is the exception: the simulated cores keep their own ledger, a database of the bank, not the hub).',
      severity: 'error',
      from: { path: folders(...HUB), pathNot: '^(store|bank)/' },
      to: { path: '(^|/)node_modules/(better-sqlite3|pg|pg-pool|pg-cursor|mssql|tedious)/' },
    },
    {
      name: 'store-through-ports',
      comment:
        'Outside store/, only the composition (runtime/, cli/) may import a store implementation; everything else uses store/*-port.ts.',
      severity: 'error',
      from: { path: folders(...HUB), pathNot: '^(store|runtime|cli)/' },
      to: { path: '^store/', pathNot: PORT },
    },
    {
      name: 'only-composition-imports-runtime-and-cli',
      comment: 'runtime/ and cli/ compose the hub; nothing below them imports them.',
      severity: 'error',
      from: { path: folders(...HUB), pathNot: '^(runtime|cli)/' },
      to: { path: '^(runtime|cli)/' },
    },
    {
      name: 'runtime-not-cli',
      comment: 'runtime/ builds processes; cli/ drives them. The CLI imports runtime/, never the reverse.',
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: '^cli/' },
    },
    layer(
      'domain',
      'domain/ is the hub language (money, ids, states, errors, messages): it imports nothing of the hub.',
      [],
    ),
    layer('copybooks', 'copybooks/ is the file-format engine: it imports nothing of the hub.', []),
    layer('logging', 'logging/ imports only domain/.', ['^domain/']),
    layer('channels', 'channels/ (the channel catalogue and settlement formats) imports only domain/.', ['^domain/']),
    layer('metrics', 'metrics/ reads gauges through store ports.', ['^(domain|logging)/', STORE_PORTS]),
    layer('config', 'config/ reads settings and checks them with the parsers of the modules that own them.', [
      '^(domain|logging|channels|copybooks)/',
      '^webhooks/webhook-signature\\.ts$',
    ]),
    layer(
      'payments',
      'payments/ (the payment use cases) reaches the store through its ports only; the messages it writes to the outbox are domain/ types, not the transport.',
      ['^(domain|logging|channels)/', STORE_PORTS],
    ),
    layer('outbox', 'outbox/ (relay and transports) sees the store through ports; it knows nothing of the adapters.', [
      '^(domain|logging|metrics)/',
      STORE_PORTS,
    ]),
    layer('adapters', 'adapters/ translate to the cores; the consumer reads commands through the transport port.', [
      '^(domain|logging|metrics)/',
      '^outbox/transport-port\\.ts$',
    ]),
    layer('webhooks', 'webhooks/ (signed confirmations) reach the store through ports.', [
      '^(domain|logging|metrics|channels|payments)/',
      STORE_PORTS,
    ]),
    layer(
      'api',
      'api/ (HTTP) calls the payment use cases and reports; it reaches the store through ports and never a core adapter or a transport.',
      ['^(domain|logging|metrics|channels|payments|reports)/', STORE_PORTS],
    ),
    layer('batch', 'batch/ (the nightly files) uses the copybook engine and the store through ports.', [
      '^(domain|logging|metrics|copybooks|payments)/',
      STORE_PORTS,
    ]),
    layer('recon', 'recon/ (reconciliation) reads the store and the core extracts through ports.', [
      '^(domain|logging|metrics|channels|copybooks)/',
      STORE_PORTS,
      '^adapters/core-extract-port\\.ts$',
    ]),
    layer('reports', 'reports/ render what the report store port returns.', ['^(domain|logging)/', STORE_PORTS]),
    layer('store', 'store/ implements ports (its own and those of outbox/): it imports ports and domain/ only.', [
      '^(domain|logging)/',
      PORT,
    ]),
    layer(
      'bank',
      "bank/ is the bank's side (simulators): it shares only the wire formats with the hub (the copybook engine, the cores' contract files, the settlement formats), never the hub's logic.",
      [
        '^(domain|copybooks)/',
        CORE_WIRE_CONTRACTS,
        '^channels/settlement/settlement-mapping\\.ts$',
        '^recon/settlement-file-reader\\.ts$',
      ],
    ),
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|\\.loanhub)/' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

// The folder list, for test/architecture/layers.test.ts (not enumerable: not part of the configuration).
Object.defineProperty(module.exports, 'HUB', { value: HUB, enumerable: false });
