/**
 * The demo policy's canary alert-rate limit comes from the candidate's validated alert-rate ratio (both demo models
 * on the locked evaluation rows), with a margin for the case-mix noise of the first look: the arms hold different
 * patients, so one unlucky arm set must not roll a healthy candidate back (it did at 1.5, seed "vigil").
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { DEMO_DIR, loadPolicyFile } from '../../src/demo/seed';
import { loadScorer } from '../../src/models';

const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'];

async function alertRate(model: string, rows: string[][], header: string[], threshold: number): Promise<number> {
  const cols = FEATURES.map((f) => header.indexOf(f));
  const features = new Float32Array(rows.length * FEATURES.length);
  rows.forEach((r, i) => cols.forEach((c, j) => (features[i * FEATURES.length + j] = Number(r[c]))));
  const scorer = await loadScorer(readFileSync(path.join(DEMO_DIR, 'models', model)), model);
  try {
    const s = await scorer.score({
      featureNames: FEATURES,
      features,
      rows: rows.length,
      caseIds: rows.map((r) => r[0]!),
    });
    return s.reduce((a, x) => a + (x >= threshold ? 1 : 0), 0) / rows.length;
  } finally {
    await scorer.close();
  }
}

it("sets the demo canary's alert-rate limit 4 to 6 first-look SDs above the validated ratio", async () => {
  const policy = await loadPolicyFile(path.join(DEMO_DIR, 'policies/demo.yaml'));
  const [head, ...lines] = readFileSync(path.join(DEMO_DIR, 'data/evaluation.csv'), 'utf8').trim().split('\n');
  const header = head!.split(',');
  const rows = lines.map((l) => l.split(','));
  const t = policy.operatingThreshold;
  const pc = await alertRate('sepsis-alert-2.0.0.json', rows, header, t);
  const pi = await alertRate('sepsis-alert-1.4.0.json', rows, header, t);
  const validated = pc / pi;
  assert.ok(validated > 1.2 && validated < 1.3, `validated ratio ${validated}`);
  // Delta method for a ratio of two independent binomial rates (canary arm vs control arm of the first look).
  const first = policy.canary.steps[0]!;
  const nc = (first.cases * first.percent) / 100;
  const ni = first.cases - nc;
  const sd = validated * Math.sqrt((1 - pc) / (nc * pc) + (1 - pi) / (ni * pi));
  assert.ok(sd > 0.08 && sd < 0.1, `first-look SD ${sd}`);
  for (const limit of [policy.canary.sequential!.maxAlertRateRatio, policy.canary.guardrails.maxAlertRateRatio]) {
    const z = (limit - validated) / sd;
    assert.ok(z >= 4 && z <= 6, `limit ${limit} is ${z.toFixed(2)} SD above the validated ${validated.toFixed(3)}`);
  }
});
