import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import {
  DatasetLineageSchema,
  DatasetManifestSchema,
  datasetManifestJsonSchema,
  missingProvenanceFields,
  type DatasetManifest,
} from '../../src/domain/dataset-manifest';
import { run } from '../../src/cli/program';
import { verifyRowInclusion, type RowInclusionProof } from '../../src/provenance/inclusion';
import { readLineage } from '../../src/provenance/lineage-file';
import { buildDatasetManifest } from '../../src/provenance/manifest-builder';
import { splitFor } from '../../src/provenance/split';

/** `vigil dataset manifest …`, run in-process through the CLI. */
const runDatasetManifest = (
  args: string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void },
): Promise<number> => run(['dataset', 'manifest', ...args], { ...io, env: {}, readStdin: async () => '' });

/** `vigil dataset prove …`, run in-process through the CLI. */
const runDatasetProve = (
  args: string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void },
): Promise<number> => run(['dataset', 'prove', ...args], { ...io, env: {}, readStdin: async () => '' });

const FIX = path.join(__dirname, '..', 'fixtures', 'provenance');
const fx = (name: string): string => path.join(FIX, name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-provenance-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

async function manifestOf(csv: string): Promise<{ manifest: DatasetManifest; sha: string }> {
  const c = capture();
  const code = await runDatasetManifest(
    [csv, '--lineage', fx('lineage.yaml'), '--split-key', fx('split.key'), '--json'],
    c.io,
  );
  assert.equal(code, 0, c.err.join(''));
  const res = JSON.parse(c.out.join('')) as { manifest: DatasetManifest; manifestSha256: string };
  return { manifest: res.manifest, sha: res.manifestSha256 };
}

/** Independent re-derivation of the documented method, without the production code. */
function referenceRoot(rows: string[][]): string {
  const h = (...parts: Buffer[]) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
  const leaves = rows.map((r) => h(Buffer.from([0]), h(Buffer.from(JSON.stringify(r), 'utf8'))));
  const mth = (xs: Buffer[]): Buffer => {
    if (xs.length === 0) return h();
    if (xs.length === 1) return xs[0]!;
    let k = 1;
    while (k * 2 < xs.length) k *= 2;
    return h(Buffer.from([1]), mth(xs.slice(0, k)), mth(xs.slice(k)));
  };
  return mth(leaves).toString('hex');
}

const FIXTURE_ROWS = (parse(fs.readFileSync(fx('cohort.csv'))) as string[][]).slice(1);

describe('dataset manifest', () => {
  it('builds a complete manifest: counts, nulls, kappa from the label file, split counts, Merkle root per the documented method', async () => {
    const outFile = path.join(tmp, 'manifest.json');
    const c = capture();
    const code = await runDatasetManifest(
      [fx('cohort.csv'), '--lineage', fx('lineage.yaml'), '--split-key', fx('split.key'), '--out', outFile],
      c.io,
    );
    assert.equal(code, 0, c.err.join(''));
    assert.match(c.out.join(''), /provenance complete/);
    const bytes = fs.readFileSync(outFile);
    const m = DatasetManifestSchema.parse(JSON.parse(bytes.toString('utf8')));
    // The file holds the RFC 8785 bytes, so its sha256 is the manifest digest printed.
    assert.ok(c.out.join('').includes(crypto.createHash('sha256').update(bytes).digest('hex')));

    assert.equal(m.rows.count, 12);
    assert.equal(m.rows.merkle.root, referenceRoot(FIXTURE_ROWS));
    assert.match(m.rows.rowDigestMethod, /^vigil-row-jcs-v1: /);
    assert.deepEqual(
      m.columns.map((col) => [col.name, col.nulls]),
      [
        ['patient_id', 0],
        ['site', 0],
        ['age', 0],
        ['label', 0],
        ['score', 1],
        ['note', 8],
      ],
    );
    assert.deepEqual(m.columns[2]!.numeric && { min: m.columns[2]!.numeric.min, max: m.columns[2]!.numeric.max }, {
      min: 45,
      max: 80,
    });
    assert.equal(m.columns[1]!.numeric, undefined);
    assert.equal(
      m.file.sha256,
      crypto
        .createHash('sha256')
        .update(fs.readFileSync(fx('cohort.csv')))
        .digest('hex'),
    );

    const labelling = m.steps!.find((s) => s.kind === 'labelling');
    assert.ok(labelling?.kind === 'labelling' && labelling.interRaterAgreement);
    const a = labelling.interRaterAgreement;
    assert.equal(a.method, 'fleiss');
    assert.equal(a.raters, 3);
    assert.equal(a.subjects, 6);
    // Hand computation for labels.csv: P_i = 1, 1/3, 1, 1/3, 1, 1/3 so P̄ = 2/3; p = (afib 8, other 3, sinus 7)/18,
    // P̄e = 122/324; κ = (216/324 − 122/324) / (202/324) = 94/202.
    assert.ok(Math.abs(a.kappa - 94 / 202) < 1e-12, `κ ${a.kappa}`);

    assert.ok(m.split);
    const key = fs.readFileSync(fx('split.key')).subarray(0, -1);
    const expected: Record<string, number> = { test: 0, train: 0, validation: 0 };
    for (const row of FIXTURE_ROWS) expected[splitFor(key, m.split.proportions, row[0]!)]! += 1;
    assert.deepEqual(m.split.rowCounts, expected);
    assert.equal(
      Object.values(m.split.rowCounts).reduce((x, y) => x + y, 0),
      12,
    );
    assert.ok(!bytes.toString('utf8').includes('P001'), 'patient ids never appear in the manifest');
    assert.deepEqual(missingProvenanceFields(m), []);
  });

  it('gives the same root for the same data however the CSV is quoted or line-ended; the file digest differs', async () => {
    const variant = path.join(tmp, 'cohort-variant.csv');
    const quoted = fs
      .readFileSync(fx('cohort.csv'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line, i) => (i === 0 ? line : line.replace(/^P(\d+),site-(\w)/, '"P$1","site-$2"')))
      .join('\r\n');
    fs.writeFileSync(variant, `${quoted}\r\n`);
    const [a, b] = [await manifestOf(fx('cohort.csv')), await manifestOf(variant)];
    assert.equal(a.manifest.rows.merkle.root, b.manifest.rows.merkle.root);
    assert.notEqual(a.manifest.file.sha256, b.manifest.file.sha256);
    // And a changed cell changes the root.
    const changed = path.join(tmp, 'cohort-changed.csv');
    fs.writeFileSync(changed, fs.readFileSync(fx('cohort.csv'), 'utf8').replace('0.913', '0.914'));
    assert.notEqual((await manifestOf(changed)).manifest.rows.merkle.root, a.manifest.rows.merkle.root);
    // Building twice gives byte-identical manifests (no timestamps, paths or host details inside).
    assert.equal((await manifestOf(fx('cohort.csv'))).sha, a.sha);
  });

  it('proves one record was used: the proof verifies against the manifest root, a changed record does not', async () => {
    const { manifest } = await manifestOf(fx('cohort.csv'));
    const manifestFile = path.join(tmp, 'm.json');
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    for (const row of [0, 5, 11]) {
      const c = capture();
      assert.equal(
        await runDatasetProve([fx('cohort.csv'), '--row', String(row), '--manifest', manifestFile, '--json'], c.io),
        0,
        c.err.join(''),
      );
      const proof = JSON.parse(c.out.join('')) as RowInclusionProof;
      assert.ok(verifyRowInclusion(FIXTURE_ROWS[row]!, proof, manifest.rows.merkle.root), `row ${row}`);
      const tampered = [...FIXTURE_ROWS[row]!];
      tampered[2] = String(Number(tampered[2]) + 1);
      assert.equal(verifyRowInclusion(tampered, proof, manifest.rows.merkle.root), false);
      assert.equal(
        verifyRowInclusion(FIXTURE_ROWS[row]!, { ...proof, index: (row + 1) % 12 }, manifest.rows.merkle.root),
        false,
      );
    }
    const c = capture();
    assert.equal(await runDatasetProve([fx('cohort.csv'), '--row', '12'], c.io), 2);
    assert.match(c.err.join(''), /row 12 does not exist: the file has 12 rows/);
  });

  it('reads Parquet to the same root as the equivalent CSV', async () => {
    const { parquetWriteFile } = (await import('hyparquet-writer')) as unknown as {
      parquetWriteFile(o: {
        filename: string;
        columnData: { name: string; data: (string | null)[]; type: string }[];
      }): Promise<void> | void;
    };
    const header = (parse(fs.readFileSync(fx('cohort.csv'))) as string[][])[0]!;
    const file = path.join(tmp, 'cohort.parquet');
    await parquetWriteFile({
      filename: file,
      columnData: header.map((name, c) => ({ name, type: 'STRING', data: FIXTURE_ROWS.map((r) => r[c]!) })),
    });
    const [csv, pq] = [await manifestOf(fx('cohort.csv')), await manifestOf(file)];
    assert.equal(pq.manifest.file.format, 'parquet');
    assert.equal(pq.manifest.rows.merkle.root, csv.manifest.rows.merkle.root);
    assert.deepEqual(pq.manifest.split, csv.manifest.split);
  });

  it('rejects bad input with one clear line, a usage exit code and no output file', async () => {
    const cases: [string[], RegExp][] = [
      [
        [fx('ragged.csv'), '--lineage', fx('lineage.yaml'), '--split-key', fx('split.key')],
        /ragged\.csv: .*(Invalid Record Length|record length)/i,
      ],
      [
        [fx('cohort.csv'), '--lineage', fx('lineage-bad.yaml'), '--split-key', fx('split.key')],
        /steps\.1\.exclusionRules\.0\.removedCount/,
      ],
      [[path.join(tmp, 'nope.csv'), '--lineage', fx('lineage.yaml')], /data file not found/],
      [[fx('cohort.csv'), '--lineage', fx('lineage.yaml')], /needs the HMAC key "test-split-key"/],
      [[fx('cohort.csv')], /--lineage is required/],
      [[fx('cohort.csv'), '--lineage', fx('lineage.yaml'), '--bogus'], /unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const out = path.join(tmp, `never-${crypto.randomUUID()}.json`);
      const c = capture();
      const code = await runDatasetManifest([...args, '--out', out], c.io);
      assert.equal(code, 2, `${args.join(' ')} → ${c.err.join('')}`);
      assert.match(c.err.join(''), message);
      assert.match(c.err.join('').split('\n')[0]!, /^error: /);
      assert.equal(fs.existsSync(out), false);
    }
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('lists missing provenance fields for the SNAPSHOT gate', async () => {
    const lineage = readLineage(fx('lineage-sparse.yaml'));
    assert.deepEqual(missingProvenanceFields(lineage), [
      'sources[0].extraction.query',
      'sources[0].extraction.queryVersion',
      'sources[0].collectionWindow.start',
      'sources[0].collectionWindow.end',
      'steps[kind=extraction]',
      'steps[kind=labelling]',
      'steps[kind=assembly]',
      'steps[0].inputCount',
      'steps[0].exclusionRules[0].description',
      'steps[0].exclusionRules[0].removedCount',
      'steps[0].outputCount',
    ]);
    const built = await buildDatasetManifest({ dataFile: fx('cohort.csv'), lineage, lineageDir: FIX });
    assert.ok(missingProvenanceFields(built.manifest).includes('steps[kind=labelling]'));
    // A labelling step with neither a label source nor rater labels lacks the label source in the manifest.
    const noLabels = DatasetLineageSchema.parse({
      dataset: { name: 'x', version: '1' },
      steps: [{ kind: 'labelling', labelPolicyVersion: 'v1' }],
    });
    const m2 = await buildDatasetManifest({ dataFile: fx('cohort.csv'), lineage: noLabels, lineageDir: FIX });
    assert.ok(missingProvenanceFields(m2.manifest).includes('steps[0].labelSource'));
  });

  it('checks filtering arithmetic and exports JSON Schemas', () => {
    const bad = DatasetLineageSchema.safeParse({
      dataset: { name: 'x', version: '1' },
      steps: [{ kind: 'filtering', inputCount: 10, exclusionRules: [{ id: 'a', removedCount: 3 }], outputCount: 8 }],
    });
    assert.equal(bad.success, false);
    const schema = datasetManifestJsonSchema();
    assert.ok((schema.properties as Record<string, unknown>).rows);
  });
});
