import type pg from 'pg';

/**
 * The shared-state database did not answer (down, restarting, unreachable, out of connections). Requests that need
 * it answer 503 "try again shortly" instead of 500: nothing is wrong with the request, and the pool reconnects on
 * its own once the database is back.
 */
export class StateUnavailableError extends Error {
  override name = 'StateUnavailableError';
}

/** SQLSTATE classes of an outage, not of a query: connection exception (08), shutdown and restart (57P01–57P03). */
const OUTAGE_STATES = /^(08...|57P0[123]|53300)$/;

/**
 * Whether `err` is an outage: a server error with an outage SQLSTATE, or no SQLSTATE at all (refused, reset,
 * terminated, pool timeout). Errors of the query itself (a constraint, a syntax error) are bugs and stay as they are.
 */
export function isOutage(err: unknown): boolean {
  // Our own bugs (a bad argument) are not outages.
  if (!(err instanceof Error) || err instanceof TypeError || err instanceof RangeError) return false;
  const code = (err as { code?: unknown }).code;
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
  return sqlstate === null ? !('severity' in err) : OUTAGE_STATES.test(sqlstate);
}

/** `err` as a StateUnavailableError when it is an outage; otherwise `err` itself. */
export function outageAsUnavailable(err: unknown): unknown {
  return isOutage(err) ? new StateUnavailableError('the shared-state database is unavailable', { cause: err }) : err;
}

/** What the stores query through. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** `db` with its outages reported as StateUnavailableError. */
export function guarded(db: Queryable): Queryable {
  return {
    query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      db.query<R>(text, values).catch((err: unknown) => {
        throw outageAsUnavailable(err);
      }),
  };
}
