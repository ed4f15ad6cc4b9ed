import type { PayloadCodec } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { History } from './history';

export interface ReplayOutcome {
  workflowId: string;
  runId: string;
  ok: boolean;
  error: string | null;
}

/**
 * Replay histories against one workflow bundle (one replay worker for all of them). A history that
 * the code would not have produced fails with the SDK's nondeterminism message, which names the
 * event and command that disagree.
 */
export async function replayAgainst(
  bundle: { code: string },
  runs: Array<{ workflowId: string; runId: string; history: History }>,
  payloadCodecs: PayloadCodec[] = [],
): Promise<ReplayOutcome[]> {
  const out: ReplayOutcome[] = [];
  const results = Worker.runReplayHistories(
    {
      workflowBundle: bundle,
      replayName: 'vigil-audit',
      ...(payloadCodecs.length ? { dataConverter: { payloadCodecs } } : {}),
    },
    runs.map((r) => ({ workflowId: r.workflowId, history: r.history })),
  );
  let i = 0;
  for await (const r of results) {
    const run = runs[i++]!;
    const error = r.error ? `${r.error.name}: ${r.error.message}` : null;
    out.push({ workflowId: run.workflowId, runId: run.runId, ok: !r.error, error });
  }
  return out;
}
