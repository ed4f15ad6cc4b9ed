import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client } from '@temporalio/client';
import type { HistoryPort, WorkerBuild } from '../contracts/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SDK_VERSION: string = (require('@temporalio/worker/package.json') as { version: string }).version;

/**
 * A build is the workflow bundle the worker runs: `@temporalio/worker@<version>+<sha256 of the bundle
 * code>`, the SDK's own format. The worker sets it explicitly (the SDK's default hashes the code after
 * patching in a cwd-dependent source-map path), so it is stamped on every workflow task in history
 * and an auditor can match each task to the archived bundle that ran it.
 */
export function buildIdFor(bundleCode: string): { buildId: string; sdkVersion: string; bundleSha256: string } {
  const bundleSha256 = createHash('sha256').update(bundleCode).digest('hex');
  return { buildId: `@temporalio/worker@${SDK_VERSION}+${bundleSha256}`, sdkVersion: SDK_VERSION, bundleSha256 };
}

export function workerBuild(bundleCode: string): WorkerBuild {
  return { ...buildIdFor(bundleCode), bundleCode: () => Promise.resolve(bundleCode) };
}

/** The code of a pre-built bundle, whichever way it was given. */
export async function bundleCodeOf(bundle: { code: string } | { codePath: string }): Promise<string> {
  return 'code' in bundle ? bundle.code : readFile(bundle.codePath, 'utf8');
}

/** Reads a run's history through the worker's own Temporal connection. */
export function temporalHistoryPort(client: Client): HistoryPort {
  return {
    async fetch(workflowId, runId) {
      return historyToJSON(await client.workflow.getHandle(workflowId, runId).fetchHistory());
    },
  };
}
