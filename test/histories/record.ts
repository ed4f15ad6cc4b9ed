/**
 * Records golden histories of the current workflow code on a fresh real stack:
 *   npm run history:record -- <version>
 * Writes test/histories/<version>/*.json. Record once per released version of the workflow code and
 * never edit a recorded file: CI replays every one of them against the current code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { ApprovalInput } from '../../src/domain';
import { approveReleaseUpdate, releaseStatusQuery } from '../../src/domain/messages';
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
    const scenarios = [
      { name: 'released', policy: 'demo.yaml' },
      { name: 'rolled-back', policy: 'demo-tight-guardrail.yaml' },
    ];
    for (const s of scenarios) {
      const handle = await startRelease(h, await demoRequest(h, await fastPolicy(s.policy)));
      const waiting = await waitFor('AWAITING_APPROVAL', async () => {
        const st = await handle.query(releaseStatusQuery);
        return st.stage === 'AWAITING_APPROVAL' && st.dossier ? st : null;
      });
      for (const role of ['qa', 'clinical'] as const) {
        await handle.executeUpdate(approveReleaseUpdate, { args: [sign(role, waiting.dossier!.sha256)] });
      }
      const result = await handle.result();
      const save = async (file: string, workflowId: string, runId?: string) => {
        const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
        writeFileSync(path.join(dir, file), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 1)}\n`);
        ids[file] = workflowId;
        console.log(`wrote ${path.relative(process.cwd(), path.join(dir, file))}`);
      };
      await save(`release-lifecycle-${s.name}.json`, handle.workflowId);
      if (result.outcome === 'RELEASED') {
        // The monitoring child continues-as-new: keep its first run (ends in continue-as-new) and its last.
        const child = `${handle.workflowId}-monitoring`;
        const parent = await handle.fetchHistory();
        const started = parent.events!.find((e) => e.childWorkflowExecutionStartedEventAttributes)!;
        await save('release-monitoring-first-run.json', child, started.childWorkflowExecutionStartedEventAttributes!.workflowExecution!.runId!);
        await save('release-monitoring-last-run.json', child, (await h.client.workflow.getHandle(child).describe()).runId);
      }
    }
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
