/**
 * Releases from local files (docs/own-model.md): `vigil init` on the stock-exported fixtures scaffolds a folder
 * whose release file passes the offline checks, and the request it would start carries what the loader and the
 * model card say; pinned digests, a changed policy and a model that cannot score the data are refused.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { run, type CliIo } from '../../src/cli/program';
import { ReleaseFileSchema, ReleasePolicySchema } from '../../src/domain';
import { canonicalBytes, policyDigest, sha256Hex } from '../../src/evidence';
import { judgeGuardrailsSequential } from '../../src/judging';
import { planRelease, ReleaseFileError } from '../../src/release-files';

const FIX = path.resolve(__dirname, '../fixtures/own-model');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    env: {},
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readStdin: async () => '',
  };
  return { value, out: () => out.join(''), err: () => err.join('') };
}

describe('release files', () => {
  let dir: string;
  let rel: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-release-file-'));
    rel = path.join(dir, 'rel');
    const o = io();
    const code = await run(
      [
        'init',
        `${FIX}/gb-skl2onnx-zipmap.onnx`,
        `${FIX}/evaluation.csv`,
        '--incumbent',
        `${FIX}/lr-skl2onnx.onnx`,
        '--label',
        'malignant',
        '--name',
        'breast-cancer',
        '--dir',
        rel,
      ],
      o.value,
    );
    assert.equal(code, 0, o.err());
    const file = path.join(rel, 'release.yaml');
    const spec = parseYaml(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    spec.change = { reason: 'GB replaces LR', submittedBy: 'alex.mle', codeCommit: COMMIT };
    fs.writeFileSync(file, toYaml(spec));
    fs.writeFileSync(path.join(rel, 'split.key'), 'a test split key, not a secret');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('init writes a valid release file pinning the policy digest, and the card with the interface', async () => {
    const spec = ReleaseFileSchema.parse(parseYaml(fs.readFileSync(path.join(rel, 'release.yaml'), 'utf8')));
    const plan = await planRelease(path.join(rel, 'release.yaml'));
    assert.deepEqual(spec.policy, { path: 'policy.yaml', sha256: policyDigest(plan.request.policy) });
    assert.ok(plan.request.policy.registeredAt <= plan.request.candidate.trainingStartedAt!);
    // The card's features are the CSV's 30 feature columns in order; the request carries them per model.
    const header = fs.readFileSync(`${FIX}/evaluation.csv`, 'utf8').split('\n')[0]!.split(',');
    const features = header.filter((c) => !['case_id', 'patient_id', 'malignant'].includes(c));
    assert.equal(features.length, 30);
    assert.deepEqual(plan.request.candidate.features, features);
    assert.deepEqual(plan.request.incumbent.features, features);
    assert.equal(plan.request.candidate.output?.positiveClass, 1);
  });

  it('the plan pins each file by the sha256 of its bytes and scores every evaluation row with both models', async () => {
    const plan = await planRelease(path.join(rel, 'release.yaml'));
    const bytesOf = (f: string) => fs.readFileSync(f);
    assert.equal(plan.request.candidate.artifact.sha256, sha256Hex(bytesOf(`${FIX}/gb-skl2onnx-zipmap.onnx`)));
    assert.equal(plan.request.incumbent.artifact.sha256, sha256Hex(bytesOf(`${FIX}/lr-skl2onnx.onnx`)));
    const evaluation = plan.request.datasets.find((d) => d.role === 'evaluation')!;
    assert.equal(evaluation.artifact.sha256, sha256Hex(bytesOf(`${FIX}/evaluation.csv`)));
    assert.equal(evaluation.schema?.columns.find((c) => c.role === 'label')?.name, 'malignant');
    // The manifest uploaded is the canonical JSON of the one built, and describes the data file.
    const manifest = plan.uploads.find((u) => u.key === evaluation.manifest!.key)!;
    const m = JSON.parse(Buffer.from(manifest.bytes).toString('utf8')) as {
      file: { sha256: string };
      rows: { count: number };
    };
    assert.equal(sha256Hex(canonicalBytes(m)), evaluation.manifest!.sha256);
    assert.equal(m.file.sha256, evaluation.artifact.sha256);
    assert.equal(m.rows.count, 171);
    // Scores equal the exporting library's own probabilities (scores.json) to float32 precision.
    const ref = JSON.parse(fs.readFileSync(`${FIX}/scores.json`, 'utf8')) as {
      models: Record<string, { scores: number[] }>;
    };
    const gb = ref.models['gb-skl2onnx-zipmap.onnx']!.scores;
    const c = plan.scoreChecks.find((s) => s.model === '2.0.0')!;
    assert.equal(c.rows, 171);
    assert.ok(Math.abs(c.mean - gb.reduce((a, b) => a + b, 0) / gb.length) < 1e-6, `${c.mean}`);
    assert.ok(Math.abs(c.min - Math.min(...gb)) < 1e-6 && Math.abs(c.max - Math.max(...gb)) < 1e-6);
    assert.equal(new Set(plan.uploads.map((u) => u.key)).size, plan.uploads.length);
  });

  it('refuses a pinned digest that does not match, and a policy edited after registration', async () => {
    const file = path.join(rel, 'release.yaml');
    const original = fs.readFileSync(file, 'utf8');
    try {
      const spec = parseYaml(original) as Record<string, Record<string, unknown>>;
      spec.candidate!.model = { path: spec.candidate!.model, sha256: '0'.repeat(64) };
      fs.writeFileSync(file, toYaml(spec));
      await assert.rejects(
        planRelease(file),
        (e: Error) =>
          e instanceof ReleaseFileError &&
          /candidate model: .* has sha256 [0-9a-f]{64}, but the release file pins 0{64}/.test(e.message),
      );
    } finally {
      fs.writeFileSync(file, original);
    }
    const policy = path.join(rel, 'policy.yaml');
    const text = fs.readFileSync(policy, 'utf8');
    try {
      fs.writeFileSync(policy, text.replace('value: 0.8', 'value: 0.7'));
      await assert.rejects(planRelease(file), /the criteria changed after they were registered/);
    } finally {
      fs.writeFileSync(policy, text);
    }
  });

  it('pins the policy as written: defaults left out change the digest, not the effective policy; an effective-form pin still holds', async () => {
    const file = path.join(rel, 'release.yaml');
    const policyPath = path.join(rel, 'policy.yaml');
    const text = fs.readFileSync(policyPath, 'utf8');
    const first = await planRelease(file);
    try {
      // Leave out every top- and second-level key whose absence gives the same effective policy (a default).
      const doc = parseYaml(text) as Record<string, Record<string, unknown>>;
      const same = () => {
        const r = ReleasePolicySchema.safeParse(doc);
        return r.success && canonicalBytes(r.data).equals(canonicalBytes(first.request.policy));
      };
      let dropped = 0;
      for (const [k, v] of Object.entries(doc)) {
        delete doc[k];
        if (same()) {
          dropped++;
          continue;
        }
        doc[k] = v;
        if (v && typeof v === 'object' && !Array.isArray(v))
          for (const [k2, v2] of Object.entries(v)) {
            delete v[k2];
            if (same()) dropped++;
            else v[k2] = v2;
          }
      }
      assert.ok(dropped > 0, 'the scaffolded policy spells out defaults');
      fs.writeFileSync(policyPath, `# written by hand, defaults left out\n${toYaml(doc)}`);
      // release.yaml pins the digest init took (the effective form, which the scaffold wrote out in full).
      const second = await planRelease(file);
      assert.deepEqual(second.request.policy, first.request.policy);
      assert.deepEqual(second.request.policyAsWritten, doc);
      assert.equal(second.policySha256, sha256Hex(canonicalBytes(doc)));
      assert.notEqual(second.policySha256, first.policySha256);
      assert.notEqual(second.releaseId, first.releaseId);
    } finally {
      fs.writeFileSync(policyPath, text);
    }
  });

  it("init's canary is judged sequentially: every field commented, planned from the steps, short looks re-bake", async () => {
    const text = fs.readFileSync(path.join(rel, 'policy.yaml'), 'utf8');
    const policy = ReleasePolicySchema.parse(parseYaml(text));
    const seq = policy.canary.sequential;
    assert.ok(seq, 'canary.sequential is scaffolded');
    assert.equal(seq.alpha, 0.05);
    assert.equal(seq.harmMargin, 0.05);
    assert.equal(seq.minPositives, 20);
    assert.equal(seq.maxAlertRateRatio, 2);
    assert.equal(seq.maxExtensions, 3);
    // planned: each step's cases split by its percent at the evaluation data's prevalence, counted here from the CSV.
    const labels = fs
      .readFileSync(`${FIX}/evaluation.csv`, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').at(-1));
    const prevalence = labels.filter((y) => y === '1').length / labels.length;
    assert.equal(labels.length, 171);
    const expect = (share: (p: number) => number) =>
      Math.round(policy.canary.steps.reduce((t, st) => t + st.cases * share(st.percent / 100) * prevalence, 0));
    assert.deepEqual(seq.planned, {
      treatmentPositives: expect((p) => p),
      comparatorPositives: expect((p) => 1 - p),
    });
    // A comment line directly above each sequential field (and above `sequential` itself), inside canary.sequential.
    const lines = text.split('\n');
    const block = lines.indexOf('  sequential:');
    assert.ok(block > lines.indexOf('canary:'), 'sequential under canary');
    assert.match(lines[block - 1]!, /^ {2}# /, 'a comment above sequential');
    for (const field of Object.keys(seq)) {
      const at = lines.findIndex((l, k) => k > block && l.startsWith(`    ${field}:`));
      assert.ok(at > block, `${field} in canary.sequential`);
      assert.match(lines[at - 1]!, /^ {4}# /, `a comment above ${field}`);
    }
    // What the block buys: a look with too few labelled positives is inconclusive (the step bakes again), not a fail.
    const arm = (n: number, positives: number, truePositives: number) => ({
      n,
      positives,
      truePositives,
      negatives: n - positives,
      trueNegatives: n - positives,
      alerts: truePositives,
      sensitivity: positives ? truePositives / positives : null,
      specificity: n > positives ? 1 : null,
      alertRate: n ? truePositives / n : null,
    });
    const judged = judgeGuardrailsSequential(
      [{ window: 'step 1', treatment: arm(50, 0, 0), comparator: arm(450, 0, 0) }],
      { ...seq, harmMargin: seq.harmMargin },
    );
    assert.equal(judged.verdict, 'inconclusive', judged.reasons.join('; '));
  });

  it('refuses a model that cannot score the evaluation data, naming the missing feature', async () => {
    const data = path.join(dir, 'renamed.csv');
    fs.writeFileSync(data, fs.readFileSync(`${FIX}/evaluation.csv`, 'utf8').replace('mean radius', 'mean_radius'));
    const file = path.join(rel, 'release.yaml');
    const original = fs.readFileSync(file, 'utf8');
    try {
      const spec = parseYaml(original) as { datasets: Array<Record<string, unknown>> };
      spec.datasets[0]!.data = path.relative(rel, data);
      const schema = path.join(dir, 'renamed-schema.json');
      fs.writeFileSync(
        schema,
        fs.readFileSync(path.join(rel, 'dataset-schema.json'), 'utf8').replace('"mean radius"', '"mean_radius"'),
      );
      spec.datasets[0]!.schema = path.relative(rel, schema);
      delete spec.datasets[0]!.lineage;
      delete spec.datasets[0]!.splitKey;
      fs.writeFileSync(file, toYaml(spec));
      await assert.rejects(
        planRelease(file),
        /scoring the evaluation dataset .*"mean radius" \(the data has "mean_radius"\)/,
      );
    } finally {
      fs.writeFileSync(file, original);
    }
  });

  it('--dry-run prints what it would upload and start, and exits 0 without a store', async () => {
    const o = io();
    assert.equal(
      await run(['release', 'start', '-f', path.join(rel, 'release.yaml'), '--dry-run', '--json'], o.value),
      0,
      o.err(),
    );
    const out = JSON.parse(o.out()) as { dryRun: boolean; releaseId: string; uploads: Array<{ what: string }> };
    assert.equal(out.dryRun, true);
    assert.match(out.releaseId, /^breast-cancer-[0-9a-f]{12}-[0-9a-f]{8}-1$/);
    assert.deepEqual(out.uploads.map((u) => u.what).sort(), [
      'candidate model 2.0.0',
      'evaluation dataset breast-cancer-evaluation',
      'incumbent model 1.0.0',
      'manifest of evaluation dataset breast-cancer-evaluation',
      'model card',
    ]);
  });
});
