/**
 * The acceptance test of docs/own-model.md (issue #14): every block marked `<!-- guide:run -->` runs, in order, in
 * one bash session, with the CLI as a user runs it (bin/vigil) against a real stack — Temporal dev server and
 * SeaweedFS (startTestStack), a Vigil worker and the API with the example users file. The release must reach
 * AWAITING_APPROVAL with offline AUCs equal to a brute-force Mann-Whitney computation over the exporting library's own
 * scores (test/fixtures/own-model/scores.json, independent of src/stats and of the ONNX runtime), and be RELEASED after
 * the guide's sign-off.
 *
 * Live traffic: the worker's demo world carries features x0..x7, not the fixture's 30; until the stack runs a gateway
 * with the user's models, the worker here measures SHADOW, canary and monitoring on simulated traffic drawn from the
 * release's own evaluation CSV (test/support/dataset-traffic.ts; every measurement says `source: simulated`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { parse as parseCsv } from 'csv-parse/sync';
import { createApp } from '../../src/api';
import { loadConfig } from '../../src/config';
import { chainKey } from '../../src/contracts/evidence-keys';
import { ChainEntrySchema, type ChainEntry } from '../../src/domain';
import { createLogger } from '../../src/logging/logger';
import { uiDepsFromConfig } from '../../src/ui';
import { DatasetTraffic } from '../support/dataset-traffic';
import { startHarness, type Harness } from '../support/harness';

const ROOT = path.resolve(__dirname, '../..');
const FIX = path.join(ROOT, 'test/fixtures/own-model');
const TOKEN = 'own-model-guide-token-0123456789';

/** The guide's runnable blocks, in order. */
export function guideBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/<!-- guide:run -->\s*\n```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
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
      { cwd, env, maxBuffer: 32 * 1024 * 1024, timeout: 150_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          out: `${stdout}\n--- stderr ---\n${stderr}`,
        }),
    );
  });
}

describe('docs/own-model.md, followed on a real stack', { timeout: 180_000 }, () => {
  let h: Harness;
  let server: ServerType;
  let work: string;
  let apiUrl: string;

  before(async () => {
    h = await startHarness({
      deps: {
        traffic: new DatasetTraffic(path.join(FIX, 'evaluation.csv'), {
          caseId: 'case_id',
          patientId: 'patient_id',
          label: 'malignant',
        }),
      },
    });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-own-model-guide-'));
    const config = loadConfig({
      ...h.env,
      VIGIL_API_TOKEN: TOKEN,
      VIGIL_USERS_FILE: path.join(ROOT, 'config/users.example.yaml'),
      VIGIL_STATE_DIR: path.join(work, '.vigil'),
    });
    const log = createLogger('own-model-guide', 'silent');
    const ui = uiDepsFromConfig(config, { client: h.client, evidence: h.evidence, log });
    const app = createApp({ client: h.client, config, log, ui });
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => resolve(info.port));
    });
    apiUrl = `http://127.0.0.1:${port}`;
    // The guide runs from the repository root: the working folder has the repository's bin/ and test/ (links).
    fs.symlinkSync(path.join(ROOT, 'bin'), path.join(work, 'bin'));
    fs.symlinkSync(path.join(ROOT, 'test'), path.join(work, 'test'));
  });
  after(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await h?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('reaches AWAITING_APPROVAL with the independently computed AUCs, then RELEASED after sign-off', async () => {
    const blocks = guideBlocks(fs.readFileSync(path.join(ROOT, 'docs/own-model.md'), 'utf8'));
    assert.ok(blocks.length >= 10, `found ${blocks.length} runnable blocks`);
    const script = blocks.map((b, i) => `echo "::guide block ${i + 1}::"\n${b}`).join('\n');
    const started = Date.now();
    const run = await runBash(script, work, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...h.env,
      VIGIL_API_URL: apiUrl,
      VIGIL_API_TOKEN: TOKEN,
      VIGIL_STATE_DIR: path.join(work, '.vigil'),
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
        chain.push(ChainEntrySchema.parse(await h.evidence.getJson(chainKey(releaseId, seq))));
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
    const docs = await Promise.all(
      snapshot.artifacts.map((a) => h.evidence.getJson(a.key, a.sha256).catch(() => null)),
    );
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
      offline.artifacts.map((a) => h.evidence.getJson(a.key, a.sha256).catch(() => null)),
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
      candidate: bruteForceAuc(scoresOf('gb-skl2onnx-zipmap.onnx'), labels),
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
    // Live stages measured the dataset's draws, and say they were simulated.
    const shadow = chain.find((e) => e.stage === 'SHADOW')!;
    const shadowDocs = await Promise.all(
      shadow.artifacts.map((a) => h.evidence.getJson(a.key, a.sha256).catch(() => null)),
    );
    assert.ok(shadowDocs.some((d) => (d as { source?: string })?.source === 'simulated'));
    console.log(
      `own-model guide: ${blocks.length} blocks, start to RELEASED in ${seconds.toFixed(1)} s; AUC candidate ${expected.candidate} (|Δ| ${Math.abs(overall.candidate.auc.estimate - expected.candidate)}), incumbent ${expected.incumbent} (|Δ| ${Math.abs(overall.incumbent.auc.estimate - expected.incumbent)})`,
    );
  });
});
