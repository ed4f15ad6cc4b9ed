/**
 * A release's run as Temporal describes it, beside the workflow's own status (issue #14, item 5): the API maps
 * describe's pending activities (attempt, last failure), `release status` prints them, and `release watch` reports
 * each new retry attempt once and ends on a run that stopped without an outcome.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import { executionOf } from '../../src/api/release-routes';
import type { ApiClient } from '../../src/cli/api-client';
import { formatStatus } from '../../src/cli/format';
import { describeEvent, watch, type WatchEvent } from '../../src/cli/watch';
import type { ReleaseExecution, ReleaseStatus } from '../../src/domain';

const status = (execution: ReleaseExecution): ReleaseStatus => ({
  releaseId: 'r1',
  modelName: 'breast-cancer',
  candidateVersion: '2.0.0',
  incumbentVersion: '1.0.0',
  submittedBy: 'alex.mle',
  stage: 'SHADOW',
  outcome: null,
  reason: null,
  policy: { id: 'p', version: '1', sha256: null },
  requiredRoles: [],
  pendingRoles: [],
  dossier: null,
  signatures: [],
  routes: null,
  chainHead: null,
  history: [
    { stage: 'SHADOW', step: null, startedAt: 't0', endedAt: null, decision: null, artifacts: [], chainEntry: null },
  ],
  approvalDeadline: null,
  execution,
});
const retrying = (attempt: number): ReleaseExecution => ({
  status: 'RUNNING',
  pendingActivities: [
    {
      activity: 'observeShadow',
      attempt,
      lastFailure: 'connect ECONNREFUSED 127.0.0.1:8333',
      lastFailureType: 'Error',
    },
  ],
});

describe('release execution (describe → status, watch)', () => {
  it('maps describe: run status, pending activity, attempt and last failure', () => {
    const d = {
      status: { name: 'RUNNING' },
      raw: {
        pendingActivities: [
          {
            activityType: { name: 'observeShadow' },
            attempt: 4,
            lastFailure: { message: 'connect ECONNREFUSED', applicationFailureInfo: { type: 'Error' } },
          },
        ],
      },
    } as unknown as WorkflowExecutionDescription;
    assert.deepEqual(executionOf(d), {
      status: 'RUNNING',
      pendingActivities: [
        { activity: 'observeShadow', attempt: 4, lastFailure: 'connect ECONNREFUSED', lastFailureType: 'Error' },
      ],
    });
    assert.equal(executionOf(null), null);
  });

  it('status shows the retried activity with its attempt and last error', () => {
    const text = formatStatus(status(retrying(3)));
    assert.match(text, /observeShadow attempt 3; last error Error: connect ECONNREFUSED 127\.0\.0\.1:8333/);
  });

  it('watch reports each new attempt once and ends on a run that stopped without an outcome', async () => {
    const polls = [retrying(2), retrying(2), retrying(3), { status: 'FAILED', pendingActivities: [] }];
    const api = { releaseStatus: async () => status(polls.shift()!) } as unknown as ApiClient;
    const events: WatchEvent[] = [];
    const exit = await watch(api, 'r1', 1, (e) => events.push(e));
    assert.equal(exit, 3);
    assert.deepEqual(
      events.map((e) => e.event),
      ['stage', 'retry', 'retry', 'end'],
    );
    assert.equal(
      describeEvent(events[2]!),
      'SHADOW retrying observeShadow attempt 3; last error Error: connect ECONNREFUSED 127.0.0.1:8333',
    );
    assert.deepEqual(events[3], {
      event: 'end',
      releaseId: 'r1',
      outcome: 'FAILED',
      reason: 'the workflow run is FAILED without an outcome (stage SHADOW)',
      at: '',
    });
  });
});
