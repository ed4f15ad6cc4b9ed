import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadModelsFile } from '../../src/gateway/models-file';
import { tempDirs } from '../support/telemetry-fakes';

const MODEL = path.resolve(__dirname, '..', '..', 'demo', 'models', 'sepsis-alert-1.4.0.json');
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
});
