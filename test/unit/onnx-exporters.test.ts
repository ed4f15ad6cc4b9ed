/**
 * Models as users export them: every fixture in test/fixtures/own-model (made by
 * infra/fixtures/make-model-fixtures.py with the stock exporters) loads with only the model card's interface,
 * and its scores equal the exporting library's own predict_proba for the positive class.
 *
 * Tolerance: 8 float32 epsilons (8 × 2^-23 ≈ 9.5e-7). The ONNX graphs compute in float32 and the reference
 * in float64, so a score differs by its final float32 rounding (≤ ε/2 for a probability ≤ 1) plus rounding
 * in the float32 sums before the sigmoid (30-term dot products, 60-tree sums), damped by σ' ≤ 1/4. Measured:
 * ≤ 1.5 ε for skl2onnx and XGBoost, 5.4 ε for the linear torch/tf graphs. A wrong column, class, scale or a
 * single flipped tree branch moves a score by 1e-4 or more, which the bound catches by orders of magnitude.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { interfaceForVersion, ModelCardSchema, type ModelInterface } from '../../src/domain';
import { loadScorer, ModelFormatError, OnnxModel, type ScoringInput } from '../../src/models';
import { logisticToOnnx } from '../../src/models/onnx-logistic';

const DIR = path.join(__dirname, '..', 'fixtures', 'own-model');
const EPS32 = 2 ** -23;
const TOLERANCE = 8 * EPS32;

interface Reference {
  caseIds: string[];
  models: Record<string, { scores: number[]; scoresWithFloat32Thresholds?: number[]; float32ThresholdRows?: number[] }>;
}
const reference = JSON.parse(fs.readFileSync(path.join(DIR, 'scores.json'), 'utf8')) as Reference;
const card = ModelCardSchema.parse(parseYaml(fs.readFileSync(path.join(DIR, 'model-card.yaml'), 'utf8')));

/** evaluation.csv as the table the evaluation scores: float32 features in file order. */
function evaluationTable(): ScoringInput {
  const [header, ...lines] = fs.readFileSync(path.join(DIR, 'evaluation.csv'), 'utf8').trim().split('\n');
  const cols = header!.split(',');
  const featureNames = cols.slice(2, -1);
  const F = featureNames.length;
  const features = new Float32Array(lines.length * F);
  const caseIds: string[] = [];
  lines.forEach((line, r) => {
    const cells = line.split(',');
    caseIds.push(cells[0]!);
    for (let k = 0; k < F; k++) features[r * F + k] = Number(cells[2 + k]);
  });
  return { featureNames, features, rows: lines.length, caseIds };
}
const table = evaluationTable();
const bytes = (file: string) => fs.readFileSync(path.join(DIR, file));
/** The card's interface for a fixture: its file name stands for the version in the card's `versions`. */
const iface = (file: string): ModelInterface => interfaceForVersion(card, file.replace(/\.onnx$/, ''));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, skip = new Set<number>()): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) if (!skip.has(i)) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function scores(file: string, spec: ModelInterface = iface(file)): Promise<Float64Array> {
  const scorer = await loadScorer(bytes(file), file, { onnx: spec });
  try {
    return await scorer.score(table);
  } finally {
    await scorer.close();
  }
}

describe('own-model fixtures: stock exports score as their libraries do', () => {
  it('the fixtures cover every evaluation row, in file order', () => {
    assert.deepEqual(reference.caseIds, table.caseIds);
    assert.equal(table.featureNames[0], 'mean radius');
    assert.deepEqual(card.interface?.features, table.featureNames);
  });

  const exact = Object.keys(reference.models).filter((f) => f !== 'lgbm-onnxmltools.onnx');
  assert.ok(exact.length >= 9, 'all fixtures listed in scores.json');
  for (const file of exact) {
    it(`${file}: every score within 8 ε₃₂ of the exporting library's own`, async () => {
      const got = await scores(file);
      const diff = maxAbsDiff(got, reference.models[file]!.scores);
      assert.ok(diff <= TOLERANCE, `max |Δ| = ${diff.toExponential(3)} (${(diff / EPS32).toFixed(2)} ε)`);
    });
  }

  it("lgbm-onnxmltools.onnx: equals LightGBM with the graph's float32 thresholds on every row, and LightGBM's own off the threshold rows", async () => {
    const file = 'lgbm-onnxmltools.onnx';
    const ref = reference.models[file]!;
    const got = await scores(file);
    // onnxmltools stores LightGBM's float64 split thresholds as float32: the same booster with rounded thresholds.
    assert.ok(maxAbsDiff(got, ref.scoresWithFloat32Thresholds!) <= TOLERANCE);
    const onThreshold = new Set(ref.float32ThresholdRows);
    assert.deepEqual([...onThreshold], [53, 92, 122, 124]);
    assert.ok(maxAbsDiff(got, ref.scores, onThreshold) <= TOLERANCE);
    // and the export really does differ from LightGBM on some of those rows (else this special case is moot)
    assert.ok(maxAbsDiff(got, ref.scores) > 1e-5);
  });

  it('ZipMap and plain-tensor exports of the same kind read the same class', async () => {
    // lr-skl2onnx.onnx (zipmap=False, int labels) and lr-skl2onnx-string-labels.onnx (ZipMap, "malignant")
    const plain = await scores('lr-skl2onnx.onnx');
    const zipmap = await scores('lr-skl2onnx-string-labels.onnx');
    assert.ok(maxAbsDiff(plain, zipmap) <= TOLERANCE);
  });

  it('a fixed-batch torch export gives the same scores as the dynamic one (batches of 1, the last padded)', async () => {
    const m = await OnnxModel.load(bytes('torch-sigmoid-batch1.onnx'), {
      ...iface('torch-sigmoid-batch1.onnx'),
      batchSize: 64,
    });
    assert.equal(m.plan.fixedBatch, 1);
    await m.close();
    assert.deepEqual(await scores('torch-sigmoid-batch1.onnx'), await scores('torch-sigmoid.onnx'));
  });

  it('positiveClass picks the column: class 0 of a two-class output is the complement', async () => {
    const features = card.interface!.features!;
    const benign = await scores('xgb-onnxmltools.onnx', { features, output: { positiveClass: 0 } });
    const malignant = reference.models['xgb-onnxmltools.onnx']!.scores;
    assert.ok(
      maxAbsDiff(
        benign,
        Float64Array.from(malignant, (p) => 1 - p),
      ) <= TOLERANCE,
    );
  });

  it('a logit output read as a logit equals the sigmoid export; positiveClass 0 gives its complement', async () => {
    const features = card.interface!.features!;
    const p = await scores('torch-sigmoid.onnx');
    const q = await scores('torch-logit.onnx', { features, output: { scale: 'logit', positiveClass: 0 } });
    assert.ok(
      maxAbsDiff(
        q,
        Float64Array.from(p, (v) => 1 - v),
      ) <= TOLERANCE,
    );
  });

  it('the demo models still load from their own metadata (vigil.features, output "probability")', async () => {
    const m = await OnnxModel.load(
      logisticToOnnx({ name: 'demo', version: '1', features: ['a', 'b'], weights: [1, -1], bias: 0 }),
    );
    assert.deepEqual(m.features, ['a', 'b']);
    assert.match(m.plan.describe, /output "probability", probability/);
    const s = await m.score(Float32Array.of(0, 0, 2, 0), 2, 2);
    assert.ok(Math.abs(s[0]! - 0.5) < 1e-7 && Math.abs(s[1]! - 1 / (1 + Math.exp(-2))) < 1e-7);
    await m.close();
  });
});

describe('own-model fixtures: what the graph leaves open is a clear error', () => {
  const features = () => [...card.interface!.features!];
  const cases: [string, string, ModelInterface, RegExp][] = [
    [
      'a card listing 29 features for a 30-column input',
      'gb-skl2onnx-zipmap.onnx',
      { features: features().slice(0, 29) },
      /model input "X" takes 30 features; the model card lists 29 \(1 too few\)/,
    ],
    [
      'no feature names at all',
      'lr-skl2onnx.onnx',
      {},
      /no feature names: its input "float_input" takes 30 features; list them in the model card \(interface\.features\)/,
    ],
    [
      'string class labels without a positiveClass',
      'lr-skl2onnx-string-labels.onnx',
      { features: features() },
      /has classes \["benign", "malignant"\]; say which is positive in the model card \(interface\.output\.positiveClass\)/,
    ],
    [
      'a positiveClass that is not a class',
      'lr-skl2onnx-string-labels.onnx',
      { features: features(), output: { positiveClass: 'cancer' } },
      /positiveClass "cancer" is not a class of .*its classes are \["benign", "malignant"\]/,
    ],
    [
      'a Gemm output with no scale',
      'torch-logit.onnx',
      { features: features() },
      /cannot tell whether output "output" \(made by Gemm\) is a probability or a logit; say interface\.output\.scale/,
    ],
    [
      'an output name the graph does not have',
      'xgb-onnxmltools.onnx',
      { features: features(), output: { name: 'probability' } },
      /names output "probability", but the model's outputs are \[label: int64\[\?\], probabilities: float32\[\?, 2\]\]/,
    ],
    [
      'an input name the graph does not have',
      'tf2onnx-sigmoid.onnx',
      { features: features(), input: 'features' },
      /names input "features", but the model's inputs are \["args_0"\]/,
    ],
  ];
  for (const [what, file, spec, message] of cases) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(OnnxModel.load(bytes(file), spec), (e: unknown) => {
        assert.ok(e instanceof ModelFormatError, String(e));
        assert.match(e.message, message);
        return true;
      });
    });
  }

  it('data that lacks the model features names them all, with the near-miss spelling the data has', async () => {
    const renamed = { ...table, featureNames: table.featureNames.map((f) => f.replace(/ /g, '_')) };
    const scorer = await loadScorer(bytes('lr-skl2onnx.onnx'), 'lr.onnx', { onnx: iface('lr-skl2onnx.onnx') });
    await assert.rejects(scorer.score(renamed), (e: unknown) => {
      assert.ok(e instanceof ModelFormatError);
      assert.match(
        e.message,
        /needs 30 features "mean radius" \(the data has "mean_radius"\), .*and 20 more, which the data lacks/,
      );
      return true;
    });
    await scorer.close();
  });
});
