/** `vigil release watch`: poll a release's status and emit each stage entry and decision once, until it ends. */
import { isTerminal, type ReleaseStatus } from '../domain';
import { ApiClientError, type ApiClient } from './api-client';
import { Exit } from './context';
import { formatDecision, pendingActivityLine, stageLabel } from './format';

/** One line of `vigil release watch` (printed as text, or as JSON with --json). */
export type WatchEvent =
  | {
      event: 'stage';
      releaseId: string;
      stage: string;
      step: number | null;
      at: string;
      dossierSha256?: string;
      pendingRoles?: string[];
    }
  | {
      event: 'decision';
      releaseId: string;
      stage: string;
      step: number | null;
      at: string;
      verdict: string;
      reasons: string[];
    }
  | {
      /** An activity of the current stage is being retried (attempt > 1), with its last error. */
      event: 'retry';
      releaseId: string;
      stage: string;
      activity: string;
      attempt: number;
      lastFailure: string | null;
      lastFailureType: string | null;
    }
  | { event: 'end'; releaseId: string; outcome: string; reason: string | null; at: string };

const MAX_CONSECUTIVE_POLL_FAILURES = 5;

/**
 * Poll the status, emitting each stage entry and decision once, until the release ends (0 if RELEASED, else 3) or,
 * with `until`, reaches that stage (0; AWAITING_APPROVAL counts once its dossier exists).
 */
export async function watch(
  api: ApiClient,
  releaseId: string,
  intervalMs: number,
  emit: (e: WatchEvent) => void,
  until?: string,
): Promise<number> {
  const seen = { decided: new Map<number, boolean>(), awaitingAnnounced: false, attempts: new Map<string, number>() };
  let failures = 0;
  for (;;) {
    let s: ReleaseStatus;
    try {
      s = await api.releaseStatus(releaseId);
      failures = 0;
    } catch (err) {
      // Ride out an API restart; a refusal (unknown release) ends the watch at once.
      if (err instanceof ApiClientError && err.kind !== 'refused' && ++failures < MAX_CONSECUTIVE_POLL_FAILURES) {
        await sleep(intervalMs);
        continue;
      }
      throw err;
    }
    emitNew(releaseId, s, seen, emit);
    if (until !== undefined && s.stage === until && (until !== 'AWAITING_APPROVAL' || s.dossier)) return Exit.ok;
    // A run that ended without an outcome (a failed or terminated workflow) ends the watch too.
    if (!isTerminal(s.stage) && s.execution && s.execution.status !== 'RUNNING') {
      emit({
        event: 'end',
        releaseId,
        outcome: s.execution.status,
        reason: `the workflow run is ${s.execution.status} without an outcome (stage ${s.stage})`,
        at: '',
      });
      return Exit.refused;
    }
    if (isTerminal(s.stage)) {
      const last = s.history.at(-1);
      emit({ event: 'end', releaseId, outcome: s.stage, reason: s.reason, at: last?.endedAt ?? last?.startedAt ?? '' });
      return s.stage === 'RELEASED' ? Exit.ok : Exit.refused;
    }
    await sleep(intervalMs);
  }
}

/** The stage entries and decisions not emitted before, and the awaiting-approval notice once a dossier exists. */
function emitNew(
  releaseId: string,
  s: ReleaseStatus,
  seen: { decided: Map<number, boolean>; awaitingAnnounced: boolean; attempts: Map<string, number> },
  emit: (e: WatchEvent) => void,
): void {
  s.history.forEach((r, i) => {
    if (isTerminal(r.stage)) return; // reported by the 'end' event
    if (!seen.decided.has(i)) {
      seen.decided.set(i, false);
      emit({ event: 'stage', releaseId, stage: r.stage, step: r.step, at: r.startedAt });
    }
    if (r.decision && !seen.decided.get(i)) {
      seen.decided.set(i, true);
      emit({
        event: 'decision',
        releaseId,
        stage: r.stage,
        step: r.step,
        at: r.endedAt ?? r.startedAt,
        verdict: r.decision.verdict,
        reasons: r.decision.reasons,
      });
    }
  });
  // After the stage entries: the current stage's activity being retried, once per new attempt.
  for (const a of s.execution?.pendingActivities ?? []) {
    if (a.attempt <= 1 || (seen.attempts.get(a.activity) ?? 1) >= a.attempt) continue;
    seen.attempts.set(a.activity, a.attempt);
    emit({ event: 'retry', releaseId, stage: s.stage, ...a });
  }
  if (s.stage === 'AWAITING_APPROVAL' && s.dossier && !seen.awaitingAnnounced) {
    seen.awaitingAnnounced = true;
    emit({
      event: 'stage',
      releaseId,
      stage: 'AWAITING_APPROVAL',
      step: null,
      at: s.history.at(-1)?.startedAt ?? '',
      dossierSha256: s.dossier.sha256,
      pendingRoles: s.pendingRoles,
    });
  }
}

/** A watch event as one line of text. */
export function describeEvent(e: WatchEvent): string {
  switch (e.event) {
    case 'stage':
      return e.dossierSha256
        ? `${e.at}  awaiting approval: dossier sha256 ${e.dossierSha256}; pending roles ${e.pendingRoles?.join(', ') || '-'}`
        : `${e.at}  ${stageLabel(e)} started`;
    case 'decision':
      return `${e.at}  ${stageLabel(e)} ${formatDecision(e)}`;
    case 'retry':
      return `${e.stage} retrying ${pendingActivityLine(e)}`;
    case 'end':
      return `${e.at}  release ${e.releaseId} ended ${e.outcome}${e.reason ? `: ${e.reason}` : ''}`;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
