/**
 * The acceptance test of docs/own-model.md (issue #14): every block marked `<!-- guide:run -->` runs, in order, in
 * one bash session, with the CLI as a user runs it (bin/vigil) against the local stack the guide starts (Temporal dev
 * server, SeaweedFS, inference gateway, worker, API with the example users file). The release must reach
 * AWAITING_APPROVAL with offline AUCs equal to a brute-force Mann-Whitney computation over the exporting library's own
 * scores (test/fixtures/own-model/scores.json, independent of src/stats and of the ONNX runtime), and be RELEASED after
 * the guide's sign-off.
 *
 * The block marked `<!-- guide:stack -->` (§5) is the stack command as the guide gives it — `src/stack/main.ts
 * --models my-release/gateway-models.yaml --traffic <evaluation CSV> …` — run in the background from the working
 * folder on free ports (plus `--no-ui`), so the release's SHADOW, canary and monitoring are measured from the
 * gateway's telemetry of the user's model serving the replayed CSV (`source: gateway-telemetry`), as a user's would be.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import { loadConfig } from '../../src/config';
import { chainKey } from '../../src/contracts/evidence-keys';
import { ChainEntrySchema, type ChainEntry } from '../../src/domain';
import { createS3Client, EvidenceStore } from '../../src/evidence';
import { freePorts } from '../../src/stack';

const ROOT = path.resolve(__dirname, '../..');
const FIX = path.join(ROOT, 'test/fixtures/own-model');
const TOKEN = 'own-model-guide-token-0123456789';

/** The guide's marked blocks, in order: `run` blocks run in the session, the `stack` block starts the stack. */
export function guideBlocks(markdown: string): Array<{ kind: 'run' | 'stack'; text: string }> {
  return [...markdown.matchAll(/<!-- guide:(run|stack) -->\s*\n```bash\n([\s\S]*?)```/g)].map((m) => ({
    kind: m[1] as 'run' | 'stack',
    text: m[2]!,
  }));
}

/**
 * The stack block as a background job of the session: from the working folder (the repository root, as the guide
 * says), with `--no-ui`, its output in stack.out and its pid in stack.pid; the session goes on once it prints
 * `stack running`, and fails with its output if it exits first.
 */
function stackJob(block: string): string {
  return `( cd "$GUIDE_ROOT" && exec env ${block.trimEnd()} --no-ui ) > "$GUIDE_ROOT/stack.out" 2>&1 &
echo $! > "$GUIDE_ROOT/stack.pid"
for _ in $(seq 1 300); do
  grep -q 'stack running' "$GUIDE_ROOT/stack.out" && break
  kill -0 "$(cat "$GUIDE_ROOT/stack.pid")" 2>/dev/null || { echo "the stack exited:"; cat "$GUIDE_ROOT/stack.out"; exit 1; }
  sleep 1
done
grep -q 'stack running' "$GUIDE_ROOT/stack.out" || { echo "the stack did not start:"; cat "$GUIDE_ROOT/stack.out"; exit 1; }
`;
}

/** AUC as P(score of a positive > score of a negative) + ½ P(tie), over every pair: no ranks, no src/stats. */
function bruteForceAuc(scores: readonly number[], labels: readonly number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', `set -euo pipefail\n${script}`],
      { cwd, env, maxBuffer: 32 * 1024 * 1024, timeout: 420_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          out: `${stdout}\n--- stderr ---\n${stderr}`,
        }),
    );
  });
}

describe('docs/own-model.md, followed on the local stack serving the fixture models', { timeout: 480_000 }, () => {
  let work: string;
  let env: Record<string, string>;
  let evidence: EvidenceStore;
  let destroyS3: () => void = () => {};

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-own-model-guide-'));
    const [temporalPort, s3Port, apiPort, gatewayPort] = (await freePorts(4)) as [number, number, number, number];
    env = {
      VIGIL_STATE_DIR: path.join(work, '.vigil'),
      VIGIL_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      VIGIL_S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
      VIGIL_API_PORT: String(apiPort),
      VIGIL_API_URL: `http://127.0.0.1:${apiPort}`,
      VIGIL_API_TOKEN: TOKEN,
      VIGIL_GATEWAY_PORT: String(gatewayPort),
    };
    const config = loadConfig(env);
    const s3 = createS3Client(config.s3);
    destroyS3 = () => s3.destroy();
    evidence = new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention });
    // The guide runs from the repository root: the working folder has the repository's bin/, config/, node_modules/, src/ and test/ (links).
    for (const d of ['bin', 'config', 'node_modules', 'src', 'test'])
      fs.symlinkSync(path.join(ROOT, d), path.join(work, d));
  });
  after(async () => {
    destroyS3();
    await stopStack(work);
    // VIGIL_GUIDE_KEEP=1 keeps the working folder (the stack's logs in .vigil/logs, stack.out) for inspection.
    if (work && !process.env.VIGIL_GUIDE_KEEP) fs.rmSync(work, { recursive: true, force: true });
    else if (work) console.log(`kept ${work}`);
  });

  it('reaches AWAITING_APPROVAL with the independently computed AUCs, then RELEASED after sign-off', async () => {
    const blocks = guideBlocks(fs.readFileSync(path.join(ROOT, 'docs/own-model.md'), 'utf8'));
    assert.ok(blocks.length >= 10, `found ${blocks.length} runnable blocks`);
    assert.equal(blocks.filter((b) => b.kind === 'stack').length, 1, 'one guide:stack block');
    const script = blocks
      .map((b, i) => `echo "::guide block ${i + 1}::"\n${b.kind === 'stack' ? stackJob(b.text) : b.text}`)
      .join('\n');
    const started = Date.now();
    const run = await runBash(script, work, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      GUIDE_ROOT: work,
      ...env,
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(
      run.code,
      0,
      `the guide's blocks failed (exit ${run.code}) after ${seconds.toFixed(0)} s:\n${run.out}`,
    );
    assert.match(run.out, /awaiting approval: dossier sha256 [0-9a-f]{64}/);

    const releaseId = (
      JSON.parse(fs.readFileSync(path.join(work, 'my-release/started.json'), 'utf8')) as {
        releaseId: string;
      }
    ).releaseId;
    const chain: ChainEntry[] = [];
    for (let seq = 0; ; seq++) {
      try {
        chain.push(ChainEntrySchema.parse(await evidence.getJson(chainKey(releaseId, seq))));
      } catch {
        break;
      }
    }
    const stages = chain.map((e) => e.stage);
    for (const s of ['SNAPSHOT', 'OFFLINE_EVAL', 'SHADOW', 'AWAITING_APPROVAL', 'CANARY', 'RELEASED'])
      assert.ok(stages.includes(s), `${s} in the chain: ${stages.join(' → ')}`);
    assert.equal(chain.at(-1)!.stage, 'RELEASED');

    // SNAPSHOT compared with the registered incumbent: only the model changed, within the change control plan.
    const snapshot = chain.find((e) => e.stage === 'SNAPSHOT')!;
    const docs = await Promise.all(snapshot.artifacts.map((a) => evidence.getJson(a.key, a.sha256).catch(() => null)));
    const summary = docs.find((d) => (d as { kind?: string })?.kind === 'vigil.change-summary/v1') as {
      changeClass: string;
      incumbent: { provenanceRecorded: boolean; servedInProduction: string | null };
      dimensions: Array<{ dimension: string; changed: boolean }>;
    };
    assert.equal(summary.incumbent.provenanceRecorded, true);
    assert.equal(summary.incumbent.servedInProduction, '1.0.0');
    assert.deepEqual(
      summary.dimensions.filter((d) => d.changed).map((d) => d.dimension),
      ['model'],
    );
    assert.equal(summary.changeClass, 'withinPlan');

    // Offline AUCs equal a brute-force Mann-Whitney over the exporting libraries' own scores.
    const offline = chain.find((e) => e.stage === 'OFFLINE_EVAL')!;
    const reports = await Promise.all(
      offline.artifacts.map((a) => evidence.getJson(a.key, a.sha256).catch(() => null)),
    );
    const report = reports.find((d) => (d as { kind?: string })?.kind === 'vigil.offline-eval/v3') as {
      report: {
        n: number;
        slices: Array<{ candidate: { auc: { estimate: number } }; incumbent: { auc: { estimate: number } } }>;
      };
    };
    const ref = JSON.parse(fs.readFileSync(path.join(FIX, 'scores.json'), 'utf8')) as {
      caseIds: string[];
      models: Record<string, { scores: number[] }>;
    };
    const rows = parseCsv(fs.readFileSync(path.join(FIX, 'evaluation.csv')), { columns: true }) as Array<
      Record<string, string>
    >;
    const labelOf = new Map(rows.map((r) => [r.case_id!, Number(r.malignant)]));
    const labels = ref.caseIds.map((id) => labelOf.get(id)!);
    const scoresOf = (file: string) => ref.models[file]!.scores;
    const expected = {
      candidate: bruteForceAuc(scoresOf('xgb-onnxmltools.onnx'), labels),
      incumbent: bruteForceAuc(scoresOf('lr-skl2onnx.onnx'), labels),
    };
    const overall = report.report.slices[0]!;
    assert.equal(report.report.n, 171);
    assert.ok(
      Math.abs(overall.candidate.auc.estimate - expected.candidate) < 1e-12,
      `candidate AUC ${overall.candidate.auc.estimate} vs ${expected.candidate}`,
    );
    assert.ok(
      Math.abs(overall.incumbent.auc.estimate - expected.incumbent) < 1e-12,
      `incumbent AUC ${overall.incumbent.auc.estimate} vs ${expected.incumbent}`,
    );
    // The live stages were measured from the gateway's telemetry of the replayed CSV, never from a simulation.
    for (const stage of ['SHADOW', 'CANARY']) {
      const docs = await Promise.all(
        chain
          .filter((e) => e.stage === stage)
          .flatMap((e) => e.artifacts)
          .map((a) => evidence.getJson(a.key, a.sha256).catch(() => null)),
      );
      const sources = docs.map((d) => (d as { source?: string })?.source).filter((x) => x !== undefined);
      assert.ok(sources.length > 0, `${stage} evidence names its source`);
      assert.ok(
        sources.every((x) => x === 'gateway-telemetry'),
        `${stage} sources: ${sources.join(', ')}`,
      );
    }
    console.log(
      `own-model guide: ${blocks.length} blocks, start to RELEASED in ${seconds.toFixed(1)} s; AUC candidate ${expected.candidate} (|Δ| ${Math.abs(overall.candidate.auc.estimate - expected.candidate)}), incumbent ${expected.incumbent} (|Δ| ${Math.abs(overall.incumbent.auc.estimate - expected.incumbent)})`,
    );
  });
});

/** SIGINT to the stack the guide started (a clean shutdown of its children), SIGKILL if it is still there after 30 s. */
async function stopStack(work: string | undefined): Promise<void> {
  if (!work) return;
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(work, 'stack.pid'), 'utf8').trim());
  } catch {
    return; // never started
  }
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}
