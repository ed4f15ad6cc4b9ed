/** The offline gate on the real stack: leakage fails it by name; a Parquet evaluation dataset works end to end. */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { labelledSchema, readCsvTable } from '../../src/data';
import { DatasetLineageSchema, ReleaseRequestSchema } from '../../src/domain';
import { releaseStatusQuery } from '../../src/domain/messages';
import { demoManifestFiles, DEMO_SPLIT_KEY } from '../../src/demo/manifests';
import { DEMO_DIR, seedDemo } from '../../src/demo/seed';
import { loadScorer } from '../../src/models';
import { buildDatasetManifest } from '../../src/provenance/manifest-builder';
import { FEATURES } from '../../src/sim/cohort';
import { rocAuc } from '../../src/stats';
import { fastPolicy, startHarness, startRelease, waitFor, type Harness } from '../support/harness';

let h: Harness;
const dirs: string[] = [];
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A copy of demo/ changed by `mutate`, with its dataset manifests rebuilt so SNAPSHOT accepts it. */
async function demoDirWith(mutate: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-offline-gate-'));
  dirs.push(dir);
  await cp(DEMO_DIR, dir, { recursive: true });
  await mutate(dir);
  for (const [rel, content] of Object.entries(await demoManifestFiles(dir)))
    await writeFile(path.join(dir, rel), content);
  return dir;
}

async function reportOf(releaseId: string) {
  const handle = h.client.workflow.getHandle(releaseId);
  const status = await handle.query(releaseStatusQuery);
  const offline = status.history.find((r) => r.stage === 'OFFLINE_EVAL')!;
  return {
    status,
    report: JSON.parse(
      (await h.evidence.getBytes(offline.artifacts[0]!.key, offline.artifacts[0]!.sha256)).toString('utf8'),
    ),
  };
}

describe('offline gate on the real stack', () => {
  it('evaluation rows copied into training fail OFFLINE_EVAL, naming the leak', async () => {
    const dir = await demoDirWith(async (d) => {
      const evaluation = (await readFile(path.join(d, 'data/evaluation.csv'), 'utf8')).trimEnd().split('\n');
      // Same patients, same measurements, new case ids: what a careless re-export looks like.
      const copied = evaluation.slice(1, 61).map((line) => `copy-${line}`);
      await writeFile(
        path.join(d, 'data/training.csv'),
        `${(await readFile(path.join(d, 'data/training.csv'), 'utf8')).trimEnd()}\n${copied.join('\n')}\n`,
      );
    });
    const request = ReleaseRequestSchema.parse(await seedDemo(h.evidence, await fastPolicy(), { dir }));
    const handle = await startRelease(h, request);
    const result = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.match(
      result.reason,
      /^OFFLINE_EVAL: leakage \(patient-overlap\): 60 patient\(s\) appear in both the training and the evaluation data/,
    );
    assert.match(
      result.reason,
      /leakage \(duplicate-rows\): 60 evaluation row\(s\) have exactly the same feature values as a training row/,
    );
    const { status, report } = await reportOf(handle.workflowId);
    assert.deepEqual(
      status.history.map((r) => [r.stage, r.decision?.verdict]),
      [
        ['SNAPSHOT', 'pass'],
        ['OFFLINE_EVAL', 'fail'],
        ['REJECTED', 'fail'],
      ],
    );
    assert.equal(report.leakage.verdict, 'fail');
    // Evidence quotes hashed patient ids, which are what the data already carries: no raw ids exist anywhere.
    const overlap = report.leakage.findings.find((f: { check: string }) => f.check === 'patient-overlap');
    assert.equal(overlap.count, 60);
    for (const e of overlap.examples) assert.match(e, /^[0-9a-f]{64}$/);
  });

  it('a Parquet evaluation dataset is read, scored with ONNX and judged like its CSV twin', async () => {
    const csvPath = path.join(DEMO_DIR, 'data/evaluation.csv');
    const csvBytes = await readFile(csvPath);
    const attrs = ['site', 'sex', 'age_band'];
    const table = readCsvTable(
      csvBytes,
      labelledSchema(FEATURES, { slices: attrs, patientId: 'patient_id' }),
      'evaluation.csv',
    );
    const { parquetWriteBuffer } = (await import('hyparquet-writer')) as unknown as {
      parquetWriteBuffer(o: { columnData: { name: string; type: string; data: unknown[] }[] }): ArrayBuffer;
    };
    const rows = csvBytes
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    const col = (i: number) => rows.map((r) => r[i]!);
    const parquet = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'case_id', type: 'STRING', data: col(0) },
          { name: 'patient_id', type: 'STRING', data: col(1) },
          ...attrs.map((a, k) => ({ name: a, type: 'STRING', data: col(2 + k) })),
          ...FEATURES.map((f, k) => ({ name: f, type: 'DOUBLE', data: col(5 + k).map(Number) })),
          { name: 'label', type: 'INT32', data: col(13).map(Number) },
        ],
      }),
    );
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-offline-gate-'));
    dirs.push(dir);
    const parquetPath = path.join(dir, 'evaluation.parquet');
    await writeFile(parquetPath, parquet);
    const lineage = DatasetLineageSchema.parse(
      parseYaml(await readFile(path.join(DEMO_DIR, 'lineage/evaluation.yaml'), 'utf8')),
    );
    const { manifest } = await buildDatasetManifest({
      dataFile: parquetPath,
      format: 'parquet',
      lineage,
      lineageDir: path.join(DEMO_DIR, 'lineage'),
      splitKey: DEMO_SPLIT_KEY,
    });

    const seeded = await seedDemo(h.evidence, await fastPolicy(), { attempt: 2 });
    const artifact = await h.evidence.putBytes(parquet, 'application/vnd.apache.parquet');
    const manifestRef = await h.evidence.putJson(manifest);
    seeded.datasets = seeded.datasets.map((d) =>
      d.role === 'evaluation'
        ? {
            ...d,
            format: 'parquet',
            artifact: { key: artifact.key, sha256: artifact.sha256 },
            manifest: { key: manifestRef.key, sha256: manifestRef.sha256 },
          }
        : d,
    );
    const request = ReleaseRequestSchema.parse(seeded);
    assert.equal(request.candidate.format, 'onnx');
    const handle = await startRelease(h, request);
    const status = await waitFor('AWAITING_APPROVAL', async () => {
      const s = await handle.query(releaseStatusQuery);
      assert.ok(s.outcome === null, `release ended early: ${s.outcome} ${s.reason}`);
      return s.stage === 'AWAITING_APPROVAL' ? s : null;
    });
    assert.deepEqual(
      status.history.slice(0, 3).map((r) => [r.stage, r.decision?.verdict]),
      [
        ['SNAPSHOT', 'pass'],
        ['OFFLINE_EVAL', 'pass'],
        ['SHADOW', 'pass'],
      ],
    );
    assert.match(
      status.history[1]!.decision!.reasons[0]!,
      /no leakage \(patient-overlap, duplicate-rows, single-feature, feature-pair\)/,
    );
    const { report } = await reportOf(handle.workflowId);
    assert.deepEqual([report.tables[0].format, report.tables[0].rows], ['parquet', 3000]);
    assert.equal(report.candidate.format, 'onnx');
    // Same float32 features as the CSV reader gives: the same AUC to the last bit.
    const candidate = await loadScorer(
      await readFile(path.join(DEMO_DIR, `models/sepsis-alert-${request.candidate.version}.onnx`)),
      'application/onnx',
    );
    try {
      const auc = rocAuc(await candidate.score(table), table.labels);
      assert.equal(
        report.report.slices.find((s: { slice: string }) => s.slice === 'overall').candidate.auc.estimate,
        auc,
      );
    } finally {
      await candidate.close();
    }
    await handle.terminate('test done');
  });
});
