/**
 * The history archive record: which workflow run, which build ran it, and where its history and code are
 * (written by src/activities/archive.ts, read by src/audit).
 */
import type { EvidenceRef } from '../domain';

export const HISTORY_ARCHIVE_KIND = 'vigil.history-archive/v1';
export const WORKFLOW_BUNDLE_MEDIA_TYPE = 'text/javascript; charset=utf-8';

/** Why a run's history was archived. */
export type HistoryArchiveReason = 'completion' | 'continue-as-new';

/** The small manifest an auditor starts from: which run, which build ran it, where its history and code are. */
export interface HistoryArchive {
  kind: typeof HISTORY_ARCHIVE_KIND;
  releaseId: string;
  workflowId: string;
  runId: string;
  reason: HistoryArchiveReason;
  at: string;
  /** Events in the archived history (it ends at this activity: the completion events come after). */
  events: number;
  history: EvidenceRef;
  build: { buildId: string; sdkVersion: string; bundleSha256: string; bundle: EvidenceRef };
}
