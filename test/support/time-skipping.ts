/**
 * Workflow tests on the time-skipping test server (`.tools/bin/temporal-test-server`): the environment with
 * Vigil's search attributes registered, and the small fixtures the hand-written fake activities share.
 */
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { ArmStats, EvidenceRef } from '../../src/domain';
import { ORCHESTRATION_TASK_QUEUE, SEARCH_ATTRIBUTE_NAMES } from '../../src/domain/messages';
import { createLogger } from '../../src/logging/logger';
import { installRuntimeLogger } from '../../src/workers/runtime';
import { workflowBundle } from './harness';

const ROOT = path.resolve(__dirname, '../..');

/** A fresh time-skipping server; it knows no custom search attributes until they are registered. */
export async function startTimeSkippingEnv(
  opts: { searchAttributes?: boolean; logLevel?: string } = {},
): Promise<TestWorkflowEnvironment> {
  installRuntimeLogger(createLogger('test', opts.logLevel ?? 'warn'));
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: path.join(ROOT, '.tools/bin/temporal-test-server') } },
  });
  if (opts.searchAttributes !== false) {
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTE_NAMES.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
  }
  return env;
}

/** Runs `fn` while a worker with these (fake) activities polls a fresh task queue of `env`, given to `fn`. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  activities: object,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `${ORCHESTRATION_TASK_QUEUE}-${Math.random().toString(36).slice(2)}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  return worker.runUntil(fn(taskQueue));
}

/** Confusion counts of one arm from positives, true positives, cases and alerts. */
export const arm = (positives: number, truePositives: number, n: number, alerts: number): ArmStats => ({
  n,
  positives,
  truePositives,
  negatives: n - positives,
  trueNegatives: n - positives - (alerts - truePositives),
  alerts,
  sensitivity: positives ? truePositives / positives : null,
  specificity: (n - positives - (alerts - truePositives)) / (n - positives),
  alertRate: alerts / n,
});

/** A well-formed evidence ref numbered n (fakes return these). */
export const ref = (n: number): EvidenceRef => ({
  key: `sha256/${String(n).padStart(64, '0')}`,
  sha256: String(n).padStart(64, '0'),
  size: 1,
  mediaType: 'application/json',
});

/** Fake SNAPSHOT and OFFLINE_EVAL activities that pass, with `atThreshold` as both models' counts. */
export function passingPreApproval(atThreshold: ArmStats) {
  return {
    async snapshotRelease() {
      return {
        measurement: { policySha256: 'a'.repeat(64), missingFields: [], digestMismatches: [] },
        artifacts: [ref(1)],
      };
    },
    async evaluateOffline() {
      return {
        measurement: {
          datasetSha256: 'b'.repeat(64),
          n: 1000,
          positives: 100,
          candidate: { auc: 0.9, atThreshold },
          incumbent: { auc: 0.85, atThreshold },
          criteria: [
            {
              id: 'auc-non-inferior',
              kind: 'non-inferiority' as const,
              metric: 'auc',
              status: 'pass' as const,
              reason: 'all 1 slices pass',
              failingSlices: [],
            },
          ],
        },
        artifacts: [ref(2)],
      };
    },
  };
}
