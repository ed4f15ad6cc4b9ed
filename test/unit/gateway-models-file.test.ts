import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadModelsFile } from '../../src/gateway/models-file';
import { tempDirs } from '../support/telemetry-fakes';

const MODEL = path.resolve(__dirname, '..', '..', 'demo', 'models', 'sepsis-alert-1.4.0.json');
const OWN = path.resolve(__dirname, '..', 'fixtures', 'own-model');
const tmp = tempDirs('vigil-models-file-');

function modelsFile(yaml: string): string {
  const file = path.join(tmp(), 'models.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

describe('gateway models file (VIGIL_GATEWAY_MODELS)', () => {
  const loaded: Array<Awaited<ReturnType<typeof loadModelsFile>>> = [];
  after(async () => {
    for (const models of loaded) for (const m of models) for (const b of m.versions.values()) await b.close();
  });

  it("loads in-process versions, takes the features from the model, and passes a model's sketch centres on", async () => {
    const models = await loadModelsFile(
      modelsFile(
        `models:\n  sepsis-alert:\n    versions:\n      "1.4.0": { file: ${JSON.stringify(MODEL)} }\n    sketchCentres: { x0: 0.07, x3: -1.5 }\n`,
      ),
    );
    loaded.push(models);
    assert.equal(models.length, 1);
    const m = models[0]!;
    assert.deepEqual(
      [m.name, [...m.versions.keys()], m.features],
      ['sepsis-alert', ['1.4.0'], ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']],
    );
    assert.deepEqual(m.sketchCentres, { x0: 0.07, x3: -1.5 });
  });

  it('refuses sketch centres of features the model does not have, naming them', async () => {
    await assert.rejects(
      loadModelsFile(
        modelsFile(
          `models:\n  sepsis-alert:\n    versions:\n      "1.4.0": { file: ${JSON.stringify(MODEL)} }\n    sketchCentres: { sodium: 140, x1: 0 }\n`,
        ),
      ),
      /model "sepsis-alert": sketchCentres names "sodium", not among its features \(x0, x1/,
    );
  });

  it('refuses a centre that is not a finite number', async () => {
    for (const bad of ['.inf', '-.inf', '.nan', '"140"']) {
      await assert.rejects(
        loadModelsFile(
          modelsFile(
            `models:\n  sepsis-alert:\n    versions:\n      "1.4.0": { file: ${JSON.stringify(MODEL)} }\n    sketchCentres: { x0: ${bad} }\n`,
          ),
        ),
        /sketchCentres/,
        bad,
      );
    }
  });

  it("feeds a stock skl2onnx export by its model card's interface, per version", async () => {
    const yaml = (card: string) =>
      [
        'models:',
        '  breast-cancer:',
        `    modelCard: ${JSON.stringify(card)}`,
        '    versions:',
        `      lr-skl2onnx: { file: ${JSON.stringify(path.join(OWN, 'lr-skl2onnx.onnx'))} }`,
        `      lr-skl2onnx-string-labels: { file: ${JSON.stringify(path.join(OWN, 'lr-skl2onnx-string-labels.onnx'))} }`,
        '',
      ].join('\n');
    // Without a card the export names no features: refused, naming the model, the version and the fix.
    await assert.rejects(
      loadModelsFile(
        modelsFile(
          `models:\n  breast-cancer:\n    versions:\n      lr-skl2onnx: { file: ${JSON.stringify(path.join(OWN, 'lr-skl2onnx.onnx'))} }\n`,
        ),
      ),
      /model "breast-cancer" version lr-skl2onnx .*carries no feature names.*interface\.features/,
    );
    // A card that cannot be read is refused, naming the model.
    await assert.rejects(
      loadModelsFile(modelsFile(yaml('/nonexistent/card.yaml'))),
      /model "breast-cancer": cannot read its model card/,
    );
    const models = await loadModelsFile(modelsFile(yaml(path.join(OWN, 'model-card.yaml'))));
    loaded.push(models);
    const m = models[0]!;
    assert.equal(m.features.length, 30);
    assert.equal(m.features[0], 'mean radius');
    // The same rows scored by both exports (one with string class labels, read through the card's per-version
    // positiveClass): the same LogisticRegression, so the same probabilities.
    const rows = fs.readFileSync(path.join(OWN, 'evaluation.csv'), 'utf8').trim().split('\n');
    const header = rows[0]!.split(',');
    const cols = m.features.map((f) => header.indexOf(f));
    const X = new Float32Array(5 * 30);
    for (let r = 0; r < 5; r++) {
      const cells = rows[r + 1]!.split(',');
      cols.forEach((c, k) => (X[r * 30 + k] = Number(cells[c])));
    }
    const a = await m.versions
      .get('lr-skl2onnx')!
      .score({ features: X, rows: 5, featureNames: m.features, caseIds: ['a', 'b', 'c', 'd', 'e'] });
    const b = await m.versions
      .get('lr-skl2onnx-string-labels')!
      .score({ features: X, rows: 5, featureNames: m.features, caseIds: ['a', 'b', 'c', 'd', 'e'] });
    assert.equal(a.length, 5);
    for (let r = 0; r < 5; r++) assert.ok(Math.abs(a[r]! - b[r]!) < 1e-6, `row ${r}: ${a[r]} vs ${b[r]}`);
    assert.ok([...a].some((p) => p > 0.5) && [...a].some((p) => p < 0.5), 'scores spread either side of 0.5');
  });
});
