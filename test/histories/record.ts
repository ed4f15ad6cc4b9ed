/**
 * Records golden histories of the current workflow code on a fresh real stack:
 *   npm run history:record -- <version>
 * Writes test/histories/<version>/*.json. Record once per released version of the workflow code and
 * never edit a recorded file: CI replays every one of them against the current code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  releaseIdFor,
  releaseQueueWorkflowId,
  sampleIdAt,
  type ApprovalInput,
  type DrillInput,
  type ReleasePolicy,
  type ReleaseRequest,
} from '../../src/domain';
import {
  adjudicateCaseUpdate,
  approveReleaseUpdate,
  enqueueReleaseSignal,
  ORCHESTRATION_TASK_QUEUE,
  releaseQueueStatusQuery,
  releaseStatusQuery,
} from '../../src/domain/messages';
import { canonicalBytes, sha256Hex } from '../../src/evidence';
import { demoRequest, fastPolicy, startHarness, startRelease, waitFor } from '../support/harness';

export const WORKFLOW_IDS = 'workflow-ids.json';

async function main(): Promise<void> {
  const version = process.argv[2];
  if (!version || !/^v\d+\.\d+\.\d+$/.test(version)) {
    console.error('usage: npm run history:record -- v<major>.<minor>.<patch>');
    process.exit(2);
  }
  const dir = path.join(__dirname, version);
  mkdirSync(dir, { recursive: true });
  const h = await startHarness();
  // Replay needs each history's original workflow id (child ids are derived from it).
  const ids: Record<string, string> = {};
  try {
    const sign = (role: 'qa' | 'clinical', digest: string): ApprovalInput => ({
      signer: `${role}.reviewer`,
      printedName: `${role.toUpperCase()} Reviewer`,
      role,
      decision: 'approve',
      meaning: `approved as ${role} reviewer`,
      reason: 'evidence reviewed',
      dossierSha256: digest,
    });
    const scenarios: Array<{ name: string; policy: string; attempt?: number; patch?: (p: ReleasePolicy) => void }> = [
      { name: 'released', policy: 'demo.yaml' },
      { name: 'rolled-back', policy: 'demo-tight-guardrail.yaml' },
      {
        // Shadow adjudication (two reviewers judge sampled disagreements) and drift checks in every monitoring window.
        name: 'adjudicated-drift-checked',
        policy: 'demo.yaml',
        attempt: 3,
        patch: (p) => {
          p.shadow.adjudication = {
            sampleSize: 4,
            minAdjudicated: 2,
            maxCandidateWrongShare: 0.5,
            timeoutSeconds: 3600,
          };
          p.monitoring.drift = {
            onDrift: 'notify',
            maxPsi: 0.25,
            ksAlpha: 0.01,
            maxAlertRateRatio: 1.25,
            windowsForPerformance: 6,
            maxSensitivityDrop: 0.05,
            maxCalibrationGap: 0.05,
            minPositives: 30,
          };
        },
      },
    ];
    const save = async (file: string, workflowId: string, runId?: string) => {
      const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
      writeFileSync(path.join(dir, file), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
      ids[file] = workflowId;
      console.log(`wrote ${path.relative(process.cwd(), path.join(dir, file))}`);
    };
    let released: { id: string; request: ReleaseRequest } | null = null;
    for (const s of scenarios) {
      const request = await demoRequest(h, await fastPolicy(s.policy, s.patch), s.attempt ?? 1);
      const handle = await startRelease(h, request);
      if (request.policy.shadow.adjudication) {
        const review = await waitFor('the shadow sample', async () => {
          const st = await handle.query(releaseStatusQuery);
          return st.shadowAdjudication?.open && st.shadowAdjudication.sampled > 0 ? st.shadowAdjudication : null;
        });
        for (const [k, role] of (['qa', 'clinical'] as const).entries()) {
          await handle.executeUpdate(adjudicateCaseUpdate, {
            args: [
              {
                sampleId: sampleIdAt(k % review.sampled),
                reviewer: `${role}.reviewer`,
                printedName: `${role.toUpperCase()} Reviewer`,
                role,
                verdict: 'candidate',
                comment: 'recorded for the golden history',
              },
            ],
          });
        }
      }
      const waiting = await waitFor('AWAITING_APPROVAL', async () => {
        const st = await handle.query(releaseStatusQuery);
        return st.stage === 'AWAITING_APPROVAL' && st.dossier ? st : null;
      });
      for (const role of ['qa', 'clinical'] as const) {
        await handle.executeUpdate(approveReleaseUpdate, { args: [sign(role, waiting.dossier!.sha256)] });
      }
      const result = await handle.result();
      if (result.outcome === 'RELEASED' && s.name === 'released') released = { id: handle.workflowId, request };
      await save(`release-lifecycle-${s.name}.json`, handle.workflowId);
      if (result.outcome === 'RELEASED' && s.name === 'adjudicated-drift-checked') {
        const child = `${handle.workflowId}-monitoring`;
        await save(
          'release-monitoring-drift-checked-last-run.json',
          child,
          (await h.client.workflow.getHandle(child).describe()).runId,
        );
      }
      if (result.outcome === 'RELEASED' && s.name === 'released') {
        // The monitoring child continues-as-new: keep its first run (ends in continue-as-new) and its last.
        const child = `${handle.workflowId}-monitoring`;
        const parent = await handle.fetchHistory();
        const started = parent.events!.find((e) => e.childWorkflowExecutionStartedEventAttributes)!;
        await save(
          'release-monitoring-first-run.json',
          child,
          started.childWorkflowExecutionStartedEventAttributes!.workflowExecution!.runId!,
        );
        await save(
          'release-monitoring-last-run.json',
          child,
          (await h.client.workflow.getHandle(child).describe()).runId,
        );
      }
    }
    if (!released) throw new Error('the released scenario did not release');

    // A rollback drill of the released candidate against a pipeline fault at site-b (workflow: rollbackDrill).
    const drillInput: DrillInput = {
      request: released.request,
      scenario: {
        name: 'site-b x0 unit mix-up',
        regression: { site: 'site-b', feature: 'x0', scale: 0, offset: -3, fromInterval: 0, inShadow: false },
        labelledShare: 1,
      },
      requestedBy: 'history-recorder',
      fromRelease: released.id,
    };
    const drill = await h.client.workflow.start('rollbackDrill', {
      taskQueue: ORCHESTRATION_TASK_QUEUE,
      workflowId: `drill-${released.id}`,
      args: [drillInput],
    });
    const drilled = (await drill.result()) as { passed: boolean };
    if (!drilled.passed) throw new Error('the recorded drill did not pass');
    await save('rollback-drill-passed.json', drill.workflowId);

    // The per-model queue (workflow: releaseQueue): one candidate queued behind the released release is
    // started, then rejected; the queue is recorded once idle again.
    const queuedRequest = await demoRequest(h, await fastPolicy(), 2);
    const queuedId = releaseIdFor(queuedRequest, sha256Hex(canonicalBytes(queuedRequest.policy)));
    const queueId = releaseQueueWorkflowId(queuedRequest.modelName);
    const queue = await h.client.workflow.signalWithStart('releaseQueue', {
      taskQueue: ORCHESTRATION_TASK_QUEUE,
      workflowId: queueId,
      args: [{ modelName: queuedRequest.modelName }],
      signal: enqueueReleaseSignal,
      signalArgs: [
        {
          releaseId: queuedId,
          modelName: queuedRequest.modelName,
          deliveryKey: 'recorder:1',
          behind: [released.id],
          queuedAt: new Date().toISOString(),
          request: queuedRequest,
        },
      ],
    });
    const queued = h.client.workflow.getHandle(queuedId);
    const pending = await waitFor('the queued release awaiting approval', async () => {
      const st = await queued.query(releaseStatusQuery);
      return st.stage === 'AWAITING_APPROVAL' && st.dossier ? st : null;
    });
    await queued.executeUpdate(approveReleaseUpdate, {
      args: [
        { ...sign('clinical', pending.dossier!.sha256), decision: 'reject', reason: 'recording the queue history' },
      ],
    });
    await queued.result();
    await waitFor(
      'the queue idle',
      async () => {
        const st = await queue.query(releaseQueueStatusQuery);
        return st.pending.length === 0 && st.waitingOn.length === 0 && st.started.includes(queuedId) ? st : null;
      },
      60_000,
    );
    await save('release-queue-idle.json', queueId);

    writeFileSync(path.join(dir, WORKFLOW_IDS), `${JSON.stringify(ids, null, 2)}\n`);
  } finally {
    await h.stop();
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
