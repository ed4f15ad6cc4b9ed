import { ApplicationFailure } from '@temporalio/common';
import {
  HISTORY_ARCHIVE_KIND,
  WORKFLOW_BUNDLE_MEDIA_TYPE,
  type HistoryArchive,
  type HistoryArchiveReason,
} from '../contracts/history-archive';
import { ErrorType, type EvidenceRef } from '../domain';
import type { ActivityDeps } from './deps';

export interface ArchiveHistoryInput {
  releaseId: string;
  workflowId: string;
  runId: string;
  reason: HistoryArchiveReason;
  at: string;
}

export function archiveActivities({ evidence, history, build }: Pick<ActivityDeps, 'evidence' | 'history' | 'build'>) {
  // The bundle is a few MB and the same for every archive this worker writes: store it once per process.
  let bundleRef: Promise<EvidenceRef> | null = null;
  const storeBundle = (b: NonNullable<typeof build>): Promise<EvidenceRef> => {
    bundleRef ??= b
      .bundleCode()
      .then((code) => evidence.putBytes(Buffer.from(code, 'utf8'), WORKFLOW_BUNDLE_MEDIA_TYPE))
      .catch((e: unknown) => {
        bundleRef = null;
        throw e;
      });
    return bundleRef;
  };

  return {
    /**
     * Export the calling workflow run's history so far into the evidence store, with the build that
     * ran it. Returns [manifest, history, bundle] refs: the chain entry lists all three, so verifying
     * the chain re-hashes each of them.
     */
    async archiveHistory(input: ArchiveHistoryInput): Promise<EvidenceRef[]> {
      if (!history || !build) {
        throw ApplicationFailure.nonRetryable(
          'this worker cannot archive histories (no history port or build info)',
          ErrorType.InvalidRequest,
        );
      }
      const [json, bundle] = await Promise.all([history.fetch(input.workflowId, input.runId), storeBundle(build)]);
      const historyRef = await evidence.putBytes(Buffer.from(json, 'utf8'), 'application/json');
      const events = (JSON.parse(json) as { events?: unknown[] }).events?.length ?? 0;
      const manifest: HistoryArchive = {
        kind: HISTORY_ARCHIVE_KIND,
        ...input,
        events,
        history: historyRef,
        build: { buildId: build.buildId, sdkVersion: build.sdkVersion, bundleSha256: build.bundleSha256, bundle },
      };
      const manifestRef = await evidence.putJson(manifest);
      return [manifestRef, historyRef, bundle];
    },
  };
}
