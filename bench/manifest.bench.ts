/**
 * Dataset manifest benchmark: a deterministic 1,000,000-row × 50-column CSV (generated once into the OS temp
 * dir), manifest built N times, each run in a fresh child process so its peak RSS is its own.
 *
 *   npm run bench:manifest [-- --runs 3] [--rows 1000000] [--json]
 *
 * The CSV is read by the data readers' byte tokenizer (src/data/csv-scan.ts, `exact` dialect) through
 * src/provenance/csv-rows.ts (csv-parse only re-phrases error messages). Figures go by hand into the "Dataset manifest (bench:manifest)" section of docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildDatasetManifest } from '../src/provenance/manifest-builder';
import type { DatasetLineage } from '../src/domain/dataset-manifest';
import { mulberry32 as prng } from '../src/sim/prng';

const COLUMNS = 50;
const TARGET_SECONDS = 15;

interface RunResult {
  seconds: number;
  rows: number;
  root: string;
  maxRssMB: number;
}

const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const SEX = ['F', 'M', 'U'];
const RHYTHM = ['sinus', 'afib', 'flutter', 'paced', 'other'];

/** Clinical-looking columns: patient id, site, dates, integers, vitals/labs with 3 decimals, some blanks. */
function header(): string {
  const cols = ['patient_id', 'site', 'sex', 'rhythm', 'encounter_date', 'age', 'label'];
  for (let i = cols.length; i < COLUMNS; i++) cols.push(i % 5 === 0 ? `count_${i}` : `feature_${i}`);
  return cols.join(',');
}

function writeRow(r: () => number, out: string[]): void {
  const cells: string[] = [
    `P${String(Math.floor(r() * 200_000)).padStart(6, '0')}`,
    SITES[Math.floor(r() * SITES.length)]!,
    SEX[Math.floor(r() * SEX.length)]!,
    RHYTHM[Math.floor(r() * RHYTHM.length)]!,
    `20${20 + Math.floor(r() * 5)}-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 10)}`,
    String(18 + Math.floor(r() * 80)),
    r() < 0.1 ? '1' : '0',
  ];
  for (let i = cells.length; i < COLUMNS; i++) {
    if (i % 5 === 0) cells.push(String(Math.floor(r() * 1000)));
    else if (i % 11 === 0 && r() < 0.05) cells.push('');
    else cells.push((r() * 200 - 50).toFixed(3));
  }
  out.push(cells.join(','));
}

async function ensureCsv(rows: number): Promise<string> {
  const file = path.join(os.tmpdir(), `vigil-bench-manifest-v1-${rows}x${COLUMNS}.csv`);
  if (fs.existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const out = fs.createWriteStream(tmp);
  const r = prng(20240611);
  out.write(`${header()}\n`);
  for (let done = 0; done < rows;) {
    const batch: string[] = [];
    for (let i = 0; i < 10_000 && done < rows; i++, done++) writeRow(r, batch);
    if (!out.write(`${batch.join('\n')}\n`)) await new Promise<void>((res) => out.once('drain', () => res()));
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  fs.renameSync(tmp, file);
  return file;
}

const LINEAGE: DatasetLineage = {
  dataset: { name: 'bench-ecg-tabular', version: '1' },
  sources: [
    {
      id: 'ehr',
      system: 'synthetic EHR',
      extraction: { query: 'SELECT * FROM encounters', queryVersion: 'v1' },
      collectionWindow: { start: '2020-01-01', end: '2024-12-31' },
    },
  ],
  steps: [
    {
      kind: 'assembly',
      samplingLogic: 'all encounters',
      split: {
        patientIdColumn: 'patient_id',
        keyId: 'bench-split-key',
        proportions: { train: 0.7, validation: 0.15, test: 0.15 },
      },
    },
  ],
};

async function child(file: string, rows: number): Promise<void> {
  const start = process.hrtime.bigint();
  const built = await buildDatasetManifest({
    dataFile: file,
    lineage: LINEAGE,
    lineageDir: process.cwd(),
    splitKey: { keyId: 'bench-split-key', secret: Buffer.alloc(32, 7) },
    expectedRows: rows,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const result: RunResult = {
    seconds,
    rows: built.manifest.rows.count,
    root: built.manifest.rows.merkle.root,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      rows: { type: 'string', default: '1000000' },
      json: { type: 'boolean', default: false },
      child: { type: 'string' },
    },
  });
  const rows = Number(values.rows);
  if (values.child) return child(values.child, rows);

  const genStart = Date.now();
  const file = await ensureCsv(rows);
  const genSeconds = (Date.now() - genStart) / 1000;
  const bytes = fs.statSync(file).size;
  const results: RunResult[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const res = spawnSync(
      process.execPath,
      [...process.execArgv, __filename, '--child', file, '--rows', String(rows)],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    if (res.status !== 0) throw new Error(`run ${i + 1} failed: ${res.stderr}`);
    results.push(JSON.parse(res.stdout.trim().split('\n').pop()!) as RunResult);
    if (!values.json) {
      const r = results[results.length - 1]!;
      process.stderr.write(
        `run ${i + 1}: ${r.seconds.toFixed(2)} s, ${(bytes / 1e6 / r.seconds).toFixed(1)} MB/s, peak RSS ${r.maxRssMB.toFixed(0)} MB\n`,
      );
    }
  }
  const roots = new Set(results.map((r) => r.root));
  if (roots.size !== 1) throw new Error(`runs disagree on the Merkle root: ${[...roots].join(', ')}`);
  const secs = results.map((r) => r.seconds).sort((a, b) => a - b);
  const median = secs[Math.floor(secs.length / 2)]!;
  const summary = {
    rows,
    columns: COLUMNS,
    fileMB: bytes / 1e6,
    runs: results.length,
    secondsMedian: median,
    secondsMin: secs[0]!,
    secondsMax: secs[secs.length - 1]!,
    mbPerSecond: bytes / 1e6 / median,
    peakRssMB: Math.max(...results.map((r) => r.maxRssMB)),
    targetSeconds: TARGET_SECONDS,
    withinTarget: median <= TARGET_SECONDS,
    root: [...roots][0]!,
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    generatedSeconds: genSeconds,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    process.stdout.write(
      `manifest of ${rows} × ${COLUMNS} CSV (${summary.fileMB.toFixed(0)} MB): median ${median.toFixed(2)} s ` +
        `(min ${summary.secondsMin.toFixed(2)}, max ${summary.secondsMax.toFixed(2)}), ${summary.mbPerSecond.toFixed(1)} MB/s, ` +
        `peak RSS ${summary.peakRssMB.toFixed(0)} MB — target ≤ ${TARGET_SECONDS} s: ${summary.withinTarget ? 'met' : 'MISSED'}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
