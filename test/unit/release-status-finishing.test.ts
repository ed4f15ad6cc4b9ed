/**
 * Status after the fact (issue #19): the status query reports an outcome only once the chain entry recording it is
 * stored; until then the release is in its last stage, `finishing`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReleaseState } from '../../src/workflows/release-state';
import { validRequest } from '../support/fixtures';

const AT = '2026-11-26T00:00:00.000Z';

function monitored(): ReleaseState {
  const s = new ReleaseState('r-1', validRequest());
  for (const stage of ['OFFLINE_EVAL', 'SHADOW', 'AWAITING_APPROVAL', 'CANARY', 'MONITORING'] as const) {
    s.enter(stage, null, AT).chainEntry = `${stage}-entry`;
  }
  return s;
}

describe('release status while the outcome is being recorded', () => {
  it('shows the last stage, no outcome and `finishing` until the terminal chain entry is stored', () => {
    const s = monitored();
    s.finish('RELEASED', 'monitoring complete', AT);
    const during = s.status();
    assert.deepEqual(
      [during.stage, during.outcome, during.reason, during.finishing],
      ['MONITORING', null, null, 'RELEASED'],
    );
    assert.equal(during.history.at(-1)!.stage, 'MONITORING', 'the unrecorded terminal record is not shown');

    s.history.at(-1)!.chainEntry = 'terminal-entry'; // what appendChain does once the entry is stored
    const after = s.status();
    assert.deepEqual(
      [after.stage, after.outcome, after.reason, after.finishing],
      ['RELEASED', 'RELEASED', 'monitoring complete', undefined],
    );
    assert.equal(after.history.at(-1)!.stage, 'RELEASED');
  });

  it('reports an unfinished release as before', () => {
    const s = monitored();
    const now = s.status();
    assert.deepEqual([now.stage, now.outcome, now.finishing], ['MONITORING', null, undefined]);
  });
});
