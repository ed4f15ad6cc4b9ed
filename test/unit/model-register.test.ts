/**
 * `vigil model register` (docs/own-model.md): the model production serves today is uploaded, its provenance record
 * is written where SNAPSHOT's change summary reads it, and the route store names it production — unless production
 * already serves another version, which is refused with nothing written. `vigil init --training` scaffolds a
 * training dataset, and every lineage it writes carries a labelSource, so the scaffold has no provenance gaps.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { run, type CliIo } from '../../src/cli/program';
import { provenanceKey } from '../../src/contracts/evidence-keys';
import type { RouteControl } from '../../src/contracts/ports';
import type { RouteState } from '../../src/domain';
import { readLineage } from '../../src/provenance';
import { modelProvenanceRecord } from '../../src/provenance/model-record';
import { sha256Hex } from '../../src/evidence';
import { LocalEvidence, planRegistration, planRelease, registerModel, ReleaseFileError } from '../../src/release-files';

const FIX = path.resolve(__dirname, '../fixtures/own-model');
const COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';

function routes(initial?: RouteState) {
  const tables = new Map<string, RouteState>(initial ? [['breast-cancer', initial]] : []);
  const applied: Array<{ routes: RouteState; revision?: string }> = [];
  const port: RouteControl = {
    apply: async (model, r, revision) => {
      applied.push({ routes: r, ...(revision ? { revision } : {}) });
      tables.set(model, r);
    },
    current: async (model) => tables.get(model) ?? null,
  };
  return { port, applied, tables };
}

function plan(version = '1.0.0', file = `${FIX}/lr-skl2onnx.onnx`) {
  return planRegistration({
    modelName: 'breast-cancer',
    version,
    file,
    card: `${FIX}/model-card.yaml`,
    data: [`${FIX}/train.csv`],
    codeCommit: COMMIT,
  });
}

describe('vigil model register', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-register-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uploads the model and card, writes the provenance record SNAPSHOT reads, and sets production', async () => {
    const evidence = new LocalEvidence();
    const r = routes();
    const p = plan();
    const res = await registerModel(p, evidence, r.port, new Date('2026-01-02T03:04:05Z'));
    assert.ok(res.ok);
    const modelBytes = fs.readFileSync(`${FIX}/lr-skl2onnx.onnx`);
    assert.equal(res.model.sha256, sha256Hex(modelBytes));
    assert.deepEqual(await evidence.getBytes(res.model.key, res.model.sha256), modelBytes);
    assert.equal(res.record, 'written');
    assert.equal(res.production, 'set');
    // The record at the key SNAPSHOT reads, built by the same function SNAPSHOT uses for a candidate.
    const stored = JSON.parse(
      Buffer.from(await evidence.getBytes(provenanceKey('breast-cancer', sha256Hex(modelBytes)))).toString('utf8'),
    ) as unknown;
    const trainSha = sha256Hex(fs.readFileSync(`${FIX}/train.csv`));
    assert.deepEqual(
      stored,
      modelProvenanceRecord(
        'breast-cancer',
        { version: '1.0.0', sha256: sha256Hex(modelBytes) },
        COMMIT,
        [{ name: 'breast-cancer-train', sha256: trainSha }],
        [],
      ),
    );
    assert.deepEqual(r.tables.get('breast-cancer'), { version: 1, production: '1.0.0', canary: null, shadow: null });
    // Again: nothing new, nothing refused.
    const again = await registerModel(p, evidence, r.port);
    assert.ok(again.ok);
    assert.equal(again.record, 'present');
    assert.equal(again.production, 'already');
    assert.equal(r.applied.length, 1);
  });

  it('refuses when production serves another version, naming both, and writes nothing', async () => {
    const evidence = new LocalEvidence();
    const r = routes({ version: 3, production: '0.9.0', canary: null });
    const res = await registerModel(plan(), evidence, r.port);
    assert.equal(res.ok, false);
    assert.match((res as { reason: string }).reason, /already serves 0\.9\.0, not 1\.0\.0/);
    assert.equal(r.applied.length, 0);
    await assert.rejects(evidence.getBytes(provenanceKey('breast-cancer', plan().model.sha256)));
  });

  it('refuses a different record of the same model bytes (the first stands)', async () => {
    const evidence = new LocalEvidence();
    const r = routes();
    assert.ok((await registerModel(plan(), evidence, r.port)).ok);
    const other = planRegistration({
      modelName: 'breast-cancer',
      version: '1.0.0',
      file: `${FIX}/lr-skl2onnx.onnx`,
      card: `${FIX}/model-card.yaml`,
    });
    const res = await registerModel(other, evidence, r.port);
    assert.equal(res.ok, false);
    assert.match((res as { reason: string }).reason, /different provenance record .* the first record stands/);
  });

  it('checks offline that the card loads the model', () => {
    // The string-label export needs positiveClass: malignant, which the card gives only to its own version key.
    assert.throws(
      () => plan('1.0.0', `${FIX}/lr-skl2onnx-string-labels.onnx`),
      (e) => e instanceof ReleaseFileError && /positiveClass/.test(e.message),
    );
    assert.throws(
      () =>
        planRegistration({
          modelName: 'breast-cancer',
          version: '1',
          file: `${dir}/none.onnx`,
          card: `${FIX}/model-card.yaml`,
        }),
      (e) => e instanceof ReleaseFileError && /cannot read/.test(e.message),
    );
  });

  it('the CLI refuses with exit 3 and a reason; a bad file is exit 2', async () => {
    const out: string[] = [];
    const io: CliIo = {
      env: {},
      stdout: (t) => void out.push(t),
      stderr: (t) => void out.push(t),
      readStdin: async () => '',
    };
    const args = [
      'model',
      'register',
      '--model',
      'breast-cancer',
      '--version',
      '1',
      '--card',
      `${FIX}/model-card.yaml`,
    ];
    assert.equal(await run([...args, '--file', `${dir}/none.onnx`], io), 2, out.join(''));
    assert.match(out.join(''), /cannot read/);
  });
});

describe('vigil init --training', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-init-training-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('adds a training dataset, and every lineage has a labelSource: no provenance gaps', async () => {
    const rel = path.join(dir, 'rel');
    const out: string[] = [];
    const io: CliIo = {
      env: {},
      stdout: (t) => void out.push(t),
      stderr: (t) => void out.push(t),
      readStdin: async () => '',
    };
    const code = await run(
      [
        'init',
        `${FIX}/gb-skl2onnx-zipmap.onnx`,
        `${FIX}/evaluation.csv`,
        '--incumbent',
        `${FIX}/lr-skl2onnx.onnx`,
        '--training',
        `${FIX}/train.csv`,
        '--label',
        'malignant',
        '--name',
        'breast-cancer',
        '--dir',
        rel,
      ],
      io,
    );
    assert.equal(code, 0, out.join(''));
    for (const f of ['evaluation', 'train']) {
      const steps = readLineage(path.join(rel, 'lineage', `${f}.yaml`)).steps ?? [];
      const labelling = steps.find((s) => s.kind === 'labelling');
      assert.equal(labelling?.kind === 'labelling' && labelling.labelSource?.kind, 'single-reader');
    }
    fs.writeFileSync(path.join(rel, 'split.key'), 'a test split key, not a secret');
    const file = path.join(rel, 'release.yaml');
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('"TODO: the 40-character git commit of the training code"', COMMIT),
    );
    const p = await planRelease(path.join(rel, 'release.yaml'));
    assert.deepEqual(
      p.request.datasets.map((d) => [d.role, d.name]),
      [
        ['training', 'breast-cancer-train'],
        ['evaluation', 'breast-cancer-evaluation'],
      ],
    );
    assert.deepEqual(p.missingProvenance, []);
    // The registration's default data name is the scaffold's training dataset name, so "data" compares equal.
    assert.deepEqual(
      plan().record.trainingData.map((d) => d.name),
      ['breast-cancer-train'],
    );
  });
});
