/**
 * Pre-bundles the workflows for the production image (Dockerfile build stage), so the worker
 * starts from `VIGIL_WORKFLOW_BUNDLE` instead of running webpack at every start.
 * Usage: tsx infra/bundle-workflows.ts [out-file]   (default dist/workflow-bundle.js)
 */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  // Same entry as createVigilWorker's workflowsPath, so a bundled and an unbundled worker run identical code.
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
