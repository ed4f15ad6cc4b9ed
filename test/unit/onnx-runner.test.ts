import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCsvTable } from '../../src/data/csv';
import { labelledSchema } from '../../src/data/schema';
import { DEMO_CANDIDATE, DEMO_INCUMBENT } from '../../src/demo/artifacts';
import { ModelFormatError, parseModel } from '../../src/models/logistic';
import { logisticToOnnx } from '../../src/models/onnx-logistic';
import { encodeModel, OnnxDataType } from '../../src/models/onnx-proto';
import { OnnxModel } from '../../src/models/onnx-runner';
import { FEATURES } from '../../src/sim/cohort';
import { demoOnnxFiles } from '../../infra/generate-onnx-models';

const demo = (rel: string) => path.join(__dirname, '..', '..', 'demo', rel);

/** Reference scores straight from the CSV text and the JSON model, in float64, without Vigil's readers. */
function referenceScores(jsonFile: string, csvFile: string): number[] {
  const model = parseModel(fs.readFileSync(jsonFile));
  const [header, ...lines] = fs.readFileSync(csvFile, 'utf8').trim().split('\n');
  const cols = header!.split(',');
  const idx = model.features.map((f) => cols.indexOf(f));
  return lines.map((line) => {
    const cells = line.split(',');
    const z = idx.reduce((acc, i, k) => acc + model.weights[k]! * Number(cells[i]), model.bias);
    return 1 / (1 + Math.exp(-z));
  });
}

describe('ONNX logistic models', () => {
  const table = readCsvTable(
    fs.readFileSync(demo('data/evaluation.csv')),
    labelledSchema(FEATURES, { extraColumns: 'ignore' }),
    'evaluation.csv',
  );

  it('committed demo .onnx files are exactly what infra/generate-onnx-models.ts produces', () => {
    for (const [rel, bytes] of Object.entries(demoOnnxFiles())) {
      assert.ok(
        Buffer.from(bytes).equals(fs.readFileSync(demo(rel))),
        `${rel} is stale: run node --import tsx infra/generate-onnx-models.ts`,
      );
    }
  });

  for (const m of [DEMO_INCUMBENT, DEMO_CANDIDATE]) {
    it(`onnxruntime scores of ${m.name}-${m.version}.onnx equal the JSON model's on the demo evaluation CSV (|Δ| ≤ 1e-6)`, async () => {
      const model = await OnnxModel.load(fs.readFileSync(demo(`models/${m.name}-${m.version}.onnx`)), {
        batchSize: 1000,
      });
      try {
        assert.deepEqual(model.features, m.features);
        assert.equal(`${model.name}@${model.version}`, `${m.name}@${m.version}`);
        const got = await model.score(table.features, table.rows, table.featureNames.length);
        const want = referenceScores(demo(`models/${m.name}-${m.version}.json`), demo('data/evaluation.csv'));
        assert.equal(got.length, want.length);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        assert.ok(worst <= 1e-6, `max |onnx − json| = ${worst}`);
        assert.ok(
          worst > 0 || want.length === 0,
          'sanity: float32 and float64 paths are genuinely different computations',
        );
      } finally {
        await model.close();
      }
    });
  }

  it('gives identical scores whatever the batch size (batches are contiguous row ranges)', async () => {
    const bytes = logisticToOnnx(DEMO_CANDIDATE);
    const [one, odd] = await Promise.all([
      OnnxModel.load(bytes, { batchSize: 65_536 }),
      OnnxModel.load(bytes, { batchSize: 7, intraOpNumThreads: 1 }),
    ]);
    const a = await one.score(table.features, table.rows, 8);
    const b = await odd.score(table.features, table.rows, 8);
    assert.deepEqual(b, a);
    await Promise.all([one.close(), odd.close()]);
  });

  it('refuses a matrix whose length does not match rows × cols, and the wrong column count', async () => {
    const model = await OnnxModel.load(logisticToOnnx(DEMO_CANDIDATE));
    await assert.rejects(model.score(new Float32Array(15), 2, 8), /expected rows × cols = 2 × 8/);
    await assert.rejects(model.score(new Float32Array(14), 2, 7), /takes 8 features, got 7 columns/);
    await model.close();
  });
});

describe('OnnxModel.load rejects bad models with a ModelFormatError', () => {
  const identity = (over: {
    inputs?: string[];
    inDims?: number[];
    outDims?: number[];
    elem?: number;
    meta?: string | null;
  }) =>
    encodeModel({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      producer_name: 'test',
      producer_version: '0',
      graph: {
        name: 'g',
        node: [{ input: [over.inputs?.[0] ?? 'features'], output: ['probability'], name: 'id', op_type: 'Identity' }],
        initializer: [],
        input: (over.inputs ?? ['features']).map((name) => ({
          name,
          type: {
            tensor_type: {
              elem_type: over.elem ?? OnnxDataType.FLOAT,
              shape: { dim: [{ dim_param: 'N' }, ...(over.inDims ?? [1]).map((d) => ({ dim_value: d }))] },
            },
          },
        })),
        output: [
          {
            name: 'probability',
            type: {
              tensor_type: {
                elem_type: over.elem ?? OnnxDataType.FLOAT,
                shape: { dim: [{ dim_param: 'N' }, ...(over.outDims ?? [1]).map((d) => ({ dim_value: d }))] },
              },
            },
          },
        ],
      },
      metadata_props: over.meta === null ? [] : [{ key: 'vigil.features', value: over.meta ?? '["s"]' }],
    });

  let ok: OnnxModel;
  before(async () => (ok = await OnnxModel.load(identity({}), { output: { scale: 'probability' } })));
  after(() => ok.close());

  it('accepts a well-formed pass-through model (control)', () => {
    assert.deepEqual(ok.features, ['s']);
  });

  const cases: [string, () => Promise<unknown>, RegExp][] = [
    [
      'bytes that are not a protobuf model',
      () => OnnxModel.load(Buffer.from('{"format":"vigil.logistic/v1"}')),
      /not an ONNX model|onnxruntime rejected/,
    ],
    [
      'a truncated model',
      () => OnnxModel.load(logisticToOnnx(DEMO_CANDIDATE).subarray(0, 200)),
      /not an ONNX model|onnxruntime rejected/,
    ],
    [
      'an int64 input',
      () => OnnxModel.load(identity({ elem: OnnxDataType.INT64 }), { output: { scale: 'probability' } }),
      /input "features" must be a float32 \(or float64\) tensor \[N, F\], found int64\[N, 1\]/,
    ],
    [
      'more columns than declared features',
      () => OnnxModel.load(identity({ inDims: [3], outDims: [3] }), { output: { scale: 'probability' } }),
      /model input "features" takes 3 features; the model card lists 1 \(2 too few\)/,
    ],
    [
      'an output of unknown meaning (neither sigmoid, softmax nor a classifier)',
      () => OnnxModel.load(identity({})),
      /cannot tell whether output "probability" \(made by no op: a graph input passed through\) is a probability or a logit/,
    ],
    [
      'a three-class output without a positive class',
      () =>
        OnnxModel.load(identity({ inDims: [3], outDims: [3], meta: '["a","b","c"]' }), {
          output: { scale: 'probability' },
        }),
      /has classes \[0, 1, 2\]; say which is positive/,
    ],
    [
      'no feature metadata and no feature list',
      () => OnnxModel.load(identity({ meta: null }), { output: { scale: 'probability' } }),
      /carries no feature names/,
    ],
    ['malformed feature metadata', () => OnnxModel.load(identity({ meta: '"s"' })), /must be a JSON array/],
    [
      'a feature list that contradicts the metadata',
      () => OnnxModel.load(identity({}), { features: ['t'], output: { scale: 'probability' } }),
      /declares features \[s\] but \[t\] were given/,
    ],
  ];
  for (const [what, load, message] of cases) {
    it(`rejects ${what}`, async () => {
      await assert.rejects(load(), (e: unknown) => e instanceof ModelFormatError && message.test(e.message));
    });
  }

  it('feeds a float64 input and an input of any name', async () => {
    const m = await OnnxModel.load(identity({ elem: OnnxDataType.DOUBLE, inputs: ['x'] }), {
      output: { scale: 'probability' },
    });
    assert.deepEqual([...(await m.score(Float32Array.of(0.25, 0.5), 2, 1))], [0.25, 0.5]);
    await m.close();
  });

  it('takes the feature order from the caller for foreign models without metadata', async () => {
    const m = await OnnxModel.load(identity({ meta: null }), { features: ['s'], output: { scale: 'probability' } });
    assert.deepEqual([...(await m.score(Float32Array.of(0.25, 0.5), 2, 1))], [0.25, 0.5]);
    await m.close();
  });
});
