// Versioned schema steps, shared by every dialect: the same version number names the same step on SQLite
// and PostgreSQL (1..99 the hub, 101+ webhooks, 201+ batch, 301+ dead letters, 401+ reconciliation).
// A database that holds a step this code does not know was migrated by a newer LoanHub: opening it is
// refused, since an older build could write rows the newer schema no longer means.

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The database holds a schema step this code does not know: an older build on a newer database. */
export class SchemaTooNewError extends Error {
  readonly code = 'schema_too_new';
  constructor(
    readonly unknownVersions: readonly number[],
    readonly knownMax: number,
  ) {
    super(
      `the database has schema version(s) ${unknownVersions.join(', ')} that this LoanHub does not know ` +
        `(it knows up to ${knownMax}); run the newer LoanHub, or restore the database that matches this one`,
    );
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Versions in the database that `known` does not have, within the blocks (version / 100) that `known`
 * covers: a store that opens only the dead letters' block does not judge the batch block's steps.
 */
export function unknownVersions(applied: readonly number[], known: readonly Migration[]): number[] {
  const blocks = new Set(known.map((m) => Math.floor(m.version / 100)));
  const have = new Set(known.map((m) => m.version));
  return applied.filter((v) => blocks.has(Math.floor(v / 100)) && !have.has(v)).sort((a, b) => a - b);
}

export function assertNotNewer(applied: readonly number[], known: readonly Migration[]): void {
  const unknown = unknownVersions(applied, known);
  if (unknown.length > 0) throw new SchemaTooNewError(unknown, Math.max(...known.map((m) => m.version)));
}
