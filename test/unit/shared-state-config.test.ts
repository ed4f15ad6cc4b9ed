/**
 * VIGIL_STATE_DATABASE_URL: parsed once, refused when it is not a PostgreSQL URL; a database that cannot be reached
 * stops the start with a reason that names no password; outages are told from failing queries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logging/logger';
import { freePort } from '../../src/stack/ports';
import { isOutage, openStateDatabase, StateDatabaseError } from '../../src/state';

describe('shared-state configuration', () => {
  it('is unset by default (in memory) and taken as given when it is a postgres URL', () => {
    assert.equal(loadConfig({}).stateDatabaseUrl, undefined);
    const url = 'postgresql://vigil_state:pw@db.internal:5432/vigil_state';
    assert.equal(loadConfig({ VIGIL_STATE_DATABASE_URL: url }).stateDatabaseUrl, url);
  });

  it('refuses a URL of another database', () => {
    assert.throws(
      () => loadConfig({ VIGIL_STATE_DATABASE_URL: 'mysql://u:p@h/db' }),
      (e: Error) => e instanceof ConfigError && /VIGIL_STATE_DATABASE_URL: must be a postgres/.test(e.message),
    );
  });

  it('a database that does not answer stops the start, with a reason and without the password', async () => {
    const port = await freePort();
    const secret = 'not-to-be-logged-0123';
    await assert.rejects(
      openStateDatabase(`postgres://vigil:${secret}@127.0.0.1:${port}/vigil_state`, createLogger('t', 'silent')),
      (e: Error) =>
        e instanceof StateDatabaseError &&
        /VIGIL_STATE_DATABASE_URL\) unusable: .*ECONNREFUSED/.test(e.message) &&
        !e.message.includes(secret),
    );
  });

  it('tells an outage (503, try again) from a failing query (a bug, 500)', () => {
    const server = (code: string) => Object.assign(new Error(code), { code, severity: 'ERROR' });
    const system = (code: string) => Object.assign(new Error(`connect ${code}`), { code, errno: -111 });
    for (const outage of [
      system('ECONNREFUSED'),
      system('ECONNRESET'),
      new Error('Connection terminated unexpectedly'),
    ])
      assert.equal(isOutage(outage), true, outage.message);
    for (const state of ['57P01', '57P03', '08006', '53300']) assert.equal(isOutage(server(state)), true, state);
    for (const state of ['23505', '42601', '40001']) assert.equal(isOutage(server(state)), false, state);
    assert.equal(isOutage(new TypeError('bad argument')), false);
  });
});
