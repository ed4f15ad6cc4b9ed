import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DatasetError, labelledSchema, readCsvTable } from '../../src/data';
import { DEMO_CANDIDATE, DEMO_INCUMBENT } from '../../src/demo/artifacts';
import {
  loadScorer,
  ModelFormatError,
  modelFormatOf,
  scorePair,
  ScoringError,
  type ScoringInput,
} from '../../src/models';
import { encodeModel, OnnxDataType } from '../../src/models/onnx-proto';
import { FEATURES } from '../../src/sim/cohort';

const demo = (rel: string) => path.join(__dirname, '..', '..', 'demo', rel);
const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/** An ONNX model whose output is its single input: lets a test feed any score to the checks. */
const passThrough = encodeModel({
  ir_version: 8,
  opset_import: [{ domain: '', version: 13 }],
  producer_name: 'test',
  producer_version: '0',
  graph: {
    name: 'g',
    node: [{ input: ['features'], output: ['probability'], name: 'id', op_type: 'Identity' }],
    initializer: [],
    input: [
      {
        name: 'features',
        type: {
          tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: [{ dim_param: 'N' }, { dim_value: 1 }] } },
        },
      },
    ],
    output: [
      {
        name: 'probability',
        type: {
          tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: [{ dim_param: 'N' }, { dim_value: 1 }] } },
        },
      },
    ],
  },
  metadata_props: [{ key: 'vigil.features', value: '["s"]' }],
});

const input = (scores: number[], extra: Partial<ScoringInput> = {}): ScoringInput => ({
  featureNames: ['s'],
  features: Float32Array.from(scores),
  rows: scores.length,
  caseIds: scores.map((_, i) => `c${i + 1}`),
  ...extra,
});

describe('loadScorer', () => {
  const table = readCsvTable(
    fs.readFileSync(demo('data/evaluation.csv')),
    labelledSchema(FEATURES, { extraColumns: 'ignore' }),
    'evaluation.csv',
  );

  it('JSON and ONNX versions of each demo model give the same scores on the same locked table', async () => {
    for (const m of [DEMO_INCUMBENT, DEMO_CANDIDATE]) {
      const json = await loadScorer(fs.readFileSync(demo(`models/${m.name}-${m.version}.json`)), `${m.version}.json`);
      const onnx = await loadScorer(fs.readFileSync(demo(`models/${m.name}-${m.version}.onnx`)), 'application/onnx');
      assert.equal(json.format, 'vigil.logistic/v1');
      assert.equal(onnx.format, 'onnx');
      const [a, b] = [await json.score(table), await onnx.score(table)];
      assert.equal(a.length, table.rows);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-6, `row ${i + 1}: ${a[i]} vs ${b[i]}`);
      await onnx.close();
    }
  });

  it('reorders the table columns to the model feature order', async () => {
    const scorer = await loadScorer(fs.readFileSync(demo('models/sepsis-alert-2.0.0.onnx')), 'm.onnx');
    const reversed = [...table.featureNames].reverse();
    const F = reversed.length;
    const features = new Float32Array(table.features.length);
    for (let r = 0; r < table.rows; r++)
      for (let k = 0; k < F; k++) features[r * F + k] = table.features[r * F + (F - 1 - k)]!;
    const a = await scorer.score(table);
    const b = await scorer.score({ ...table, featureNames: reversed, features });
    assert.deepEqual(b, a);
    await assert.rejects(
      scorer.score({ ...table, featureNames: ['y0', ...table.featureNames.slice(1)] }),
      (e: unknown) => e instanceof ModelFormatError && /needs feature "x0"/.test(e.message),
    );
    await scorer.close();
  });

  it('scorePair scores candidate and incumbent on the very same rows', async () => {
    const [c, i] = await Promise.all([
      loadScorer(fs.readFileSync(demo('models/sepsis-alert-2.0.0.onnx')), 'c.onnx'),
      loadScorer(fs.readFileSync(demo('models/sepsis-alert-1.4.0.json')), 'i.json'),
    ]);
    const pair = await scorePair(c, i, table);
    assert.equal(pair.candidate.length, table.rows);
    assert.equal(pair.incumbent.length, table.rows);
    assert.notDeepEqual(pair.candidate, pair.incumbent);
    await c.close();
  });

  for (const [what, scores, message, row] of [
    ['a NaN', [0.5, NaN], /scored row 2 \(case "c2"\) as NaN/, 2],
    ['an infinite', [Infinity], /scored row 1 \(case "c1"\) as Infinity/, 1],
    ['an above-1', [0.2, 0.3, 1.5], /row 3 .* as 1\.5, outside \[0, 1\]/, 3],
    ['a negative', [-0.1], /outside \[0, 1\]/, 1],
  ] as const) {
    it(`turns ${what} score into a ScoringError naming the row and case`, async () => {
      const scorer = await loadScorer(passThrough, 'p.onnx', { onnx: { output: { scale: 'probability' } } });
      await assert.rejects(
        scorer.score(input([...scores])),
        (e: unknown) => e instanceof ScoringError && e.row === row && message.test(e.message),
      );
      await scorer.close();
    });
  }

  it('refuses length mismatches between features, rows and case ids', async () => {
    const scorer = await loadScorer(passThrough, 'p.onnx', { onnx: { output: { scale: 'probability' } } });
    await assert.rejects(scorer.score(input([0.1, 0.2], { rows: 3 })), /expected 3 rows × 1 features/);
    await assert.rejects(scorer.score(input([0.1, 0.2], { caseIds: ['c1'] })), /1 case ids for 2 rows/);
    await scorer.close();
  });

  it('refuses formats it cannot tell, and prediction files without a pinned digest', async () => {
    assert.throws(() => modelFormatOf('model.pt'), ModelFormatError);
    await assert.rejects(loadScorer(Buffer.from('case_id,score\n'), 'p.csv'), /pinned sha256/);
  });
});

describe('precomputed prediction files', () => {
  const file = Buffer.from('case_id,score\nc2,0.2\nc1,0.9\nc3,0.5\n');

  it('are bound by digest and joined to the rows by case id', async () => {
    const scorer = await loadScorer(file, 'preds.csv', { predictionsSha256: sha(file) });
    assert.equal(scorer.label, `predictions@${sha(file).slice(0, 12)}`);
    assert.deepEqual([...(await scorer.score(input([0, 0, 0])))], [0.9, 0.2, 0.5]);
  });

  it('refuse a file whose digest is not the pinned one', async () => {
    await assert.rejects(
      loadScorer(file, 'preds.csv', { predictionsSha256: sha(Buffer.from('other')) }),
      (e: unknown) => e instanceof DatasetError && e.code === 'digest-mismatch',
    );
  });

  it('require exact coverage: a row without a score, or a score without a row, is an error', async () => {
    const scorer = await loadScorer(file, 'preds.csv', { predictionsSha256: sha(file) });
    await assert.rejects(scorer.score(input([0, 0, 0, 0])), {
      code: 'coverage',
      message: /1 evaluation case\(s\) have no score, e.g. "c4"/,
    });
    await assert.rejects(scorer.score(input([0, 0])), {
      code: 'coverage',
      message: /1 score\(s\) for cases not in the evaluation, e.g. "c3"/,
    });
    // A case the table dropped on purpose (drop-row policy) may still carry a score.
    assert.equal((await scorer.score(input([0, 0], { droppedCaseIds: ['c3'] }))).length, 2);
  });
});
