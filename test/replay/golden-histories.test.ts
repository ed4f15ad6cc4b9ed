/**
 * Every golden history (one set per released version of the workflow code) must replay against the
 * current code. A failure here means a change altered released behaviour without patched().
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createLogger } from '../../src/logging/logger';
import { installRuntimeLogger } from '../../src/workers/runtime';
import { WORKFLOW_IDS } from '../histories/record';
import { workflowBundle } from '../support/harness';

const HISTORIES = path.resolve(__dirname, '../histories');
const golden = readdirSync(HISTORIES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(path.join(HISTORIES, d.name))
      .filter((f) => f.endsWith('.json') && f !== WORKFLOW_IDS)
      .map((f) => path.join(d.name, f)),
  );

function load(file: string) {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')));
  const ids = JSON.parse(readFileSync(path.join(HISTORIES, path.dirname(file), WORKFLOW_IDS), 'utf8'));
  const workflowId: string = ids[path.basename(file)];
  assert.ok(workflowId, `${file} has no entry in ${WORKFLOW_IDS}`);
  return { history, workflowId };
}

before(() => installRuntimeLogger(createLogger('replay', 'warn')));

describe('golden histories replay with the current workflow code', () => {
  it('has at least one full lifecycle history', () => {
    assert.ok(
      golden.some((f) => f.includes('release-lifecycle-released')),
      `golden histories: ${golden.join(', ')}`,
    );
  });

  for (const file of golden) {
    it(`replays ${file}`, async () => {
      const { history, workflowId } = load(file);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    });
  }

  it('carries references and aggregates only: no case-level records', () => {
    for (const file of golden) {
      const text = readFileSync(path.join(HISTORIES, file), 'utf8');
      // Case ids of the simulated traffic and evaluation rows look like "<seed>:<row>".
      assert.doesNotMatch(text, /traffic:[a-z]+:[0-9a-f]{64}(:\d+)?:\d+/, `${file} contains a case id`);
      assert.doesNotMatch(text, /demo:evaluation:\d+/, `${file} contains an evaluation row id`);
    }
  });
});

describe('the replay check can fail', () => {
  it('reports nondeterminism when released workflow code changes its commands', async () => {
    // A variant of the lifecycle that waits before SNAPSHOT: a different first command.
    const altered = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'fixtures/altered-workflows.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const { history, workflowId } = load(golden.find((f) => f.includes('release-lifecycle-released'))!);
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: altered }, history, workflowId), (e: unknown) => {
      assert.ok(e instanceof DeterminismViolationError, `expected DeterminismViolationError, got ${String(e)}`);
      return true;
    });
  });
});
