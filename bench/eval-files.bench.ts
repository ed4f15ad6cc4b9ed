/**
 * Offline evaluation from files: a cohort CSV (case id, three slice columns, label, two feature columns) and
 * two pinned `vigil.predictions/v1` files on disk, to the stored report. Timed, in the offline-eval
 * activity's order: both prediction files read, digest-checked and parsed at once (through `loadScorer`, as a
 * release loads them; a large file on its own worker thread), the schema-checked CSV read, the scores joined
 * by case id, the acceptance evaluation over 15 slices (overall, 4 sites, 2 sexes, 8 site × sex)
 * with calibration (the incumbent on a worker thread, `EvaluationThreads`, as the offline-eval activity runs
 * it), and the report written as canonical JSON with its SHA-256. Each run is a fresh process, so
 * peak RSS is that run's own. A numpy/pandas script (bench/eval-files.py) computes the same statistics from
 * the same files in the same run when Python with numpy and pandas is found (VIGIL_BENCH_PYTHON, else
 * .tools/py-bench/bin/python, else python3); otherwise the comparison is skipped.
 *
 *   npm run bench:eval-files                       # 1M and 5M rows
 *   npm run bench:eval-files -- --rows 1000000 --runs 5 --json
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCsvTableFile } from '../src/data/csv';
import { labelledSchema } from '../src/data/schema';
import { canonicalBytes, sha256Hex } from '../src/evidence/canonical-json';
import { EvaluationThreads } from '../src/activities/evaluation-threads';
import { validateAcceptancePolicy } from '../src/evaluation';
import { loadScorer, type Scorer } from '../src/models';
import { mulberry32 as prng } from '../src/sim/prng';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const gaussian = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** Writes the three files (once per size; reused while they exist). */
function generate(dir: string, rows: number): void {
  if (fs.existsSync(path.join(dir, 'done'))) return;
  fs.mkdirSync(dir, { recursive: true });
  const rand = prng(20240611);
  const out = [
    fs.openSync(path.join(dir, 'cohort.csv'), 'w'),
    fs.openSync(path.join(dir, 'candidate.csv'), 'w'),
    fs.openSync(path.join(dir, 'incumbent.csv'), 'w'),
  ];
  let parts = ['case_id,site,sex,age_band,label,x1,x2\n', 'case_id,score\n', 'case_id,score\n'];
  const flush = () => {
    parts.forEach((p, k) => fs.writeSync(out[k]!, p));
    parts = ['', '', ''];
  };
  for (let i = 0; i < rows; i++) {
    const s = Math.floor(rand() * 4);
    const y = rand() < 0.08 + 0.02 * s ? 1 : 0;
    const shared = gaussian(rand);
    const x1 = (shared + (y ? 1.2 : 0)).toFixed(3);
    const x2 = gaussian(rand).toFixed(3);
    const c = Math.round(sigmoid(-2.6 + 1.6 * y + 0.9 * shared + 0.45 * gaussian(rand)) * 1e4) / 1e4;
    const inc = Math.round(sigmoid(-2.5 + 1.47 * y + 0.9 * shared + 0.5 * gaussian(rand)) * 1e4) / 1e4;
    const id = `case-${String(i).padStart(8, '0')}`;
    parts[0] += `${id},${SITES[s]},${rand() < 0.5 ? 'F' : 'M'},${rand() < 0.6 ? '18-64' : '65+'},${y},${x1},${x2}\n`;
    parts[1] += `${id},${c}\n`;
    parts[2] += `${id},${inc}\n`;
    if (i % 50_000 === 49_999) flush();
  }
  flush();
  out.forEach((fd) => fs.closeSync(fd));
  fs.writeFileSync(path.join(dir, 'done'), '');
}

const policy = validateAcceptancePolicy(
  {
    version: 1,
    criteria: [
      {
        id: 'sensitivity-lower-bound',
        kind: 'metric-threshold',
        metric: 'sensitivity',
        bound: 'lower',
        op: '>=',
        value: 0.5,
        slices: { attributes: ['site', 'sex'], includeSubsets: true },
      },
      {
        id: 'auc-non-inferior',
        kind: 'non-inferiority',
        margin: 0.01,
        alpha: 0.025,
        slices: { attributes: ['site', 'sex'], includeSubsets: true },
        multiplicity: 'holm',
      },
      {
        id: 'ece',
        kind: 'metric-threshold',
        metric: 'ece',
        op: '<=',
        value: 0.05,
      },
      {
        id: 'slope',
        kind: 'metric-threshold',
        metric: 'calibrationSlope',
        bound: 'lower',
        op: '>=',
        value: 0.8,
      },
      {
        id: 'brier',
        kind: 'max-drop',
        metric: 'brier',
        maxDrop: 0.01,
        slices: { attributes: ['site'] },
      },
    ],
  },
  { attributes: ['site', 'sex', 'age_band'] },
);

const sha256OfFile = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A prediction file read and loaded as a release loads it: digest-checked and parsed (a worker thread's work). */
async function openPredictions(dir: string, model: string, pins: Record<string, string>) {
  // the bytes are handed over: they move to the parsing thread instead of being copied there
  const bytes = await fs.promises.readFile(path.join(dir, `${model}.csv`));
  return loadScorer(bytes, `${model}.csv`, { predictionsSha256: pins[model], handOverBytes: true });
}

/** One timed run (in a child process): files on disk → stored report. */
async function child(dir: string): Promise<void> {
  const pins = JSON.parse(fs.readFileSync(path.join(dir, 'pins.json'), 'utf8')) as Record<string, string>;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // the incumbent's evaluation runs on a worker thread; it starts (loads its modules) while this one reads
  const threads = new EvaluationThreads();
  const schema = labelledSchema(['x1', 'x2'], {
    slices: ['site', 'sex', 'age_band'],
  });
  // as the offline-eval activity does (openScorers, then readDataset, then scoreTable): both prediction files
  // opened at once (each parsed on its own worker thread), the table read, the scores joined to it
  const scorers: Scorer[] = await Promise.all([
    openPredictions(dir, 'candidate', pins),
    openPredictions(dir, 'incumbent', pins),
  ]);
  const tOpened = performance.now();
  const table = await readCsvTableFile(path.join(dir, 'cohort.csv'), schema, 'cohort');
  const tRead = performance.now();
  const rss = [process.memoryUsage().rss];
  const scores = [await scorers[0]!.score(table), await scorers[1]!.score(table)];
  scorers.length = 0; // the parsed files are garbage once joined
  const t2 = performance.now();
  rss.push(process.memoryUsage().rss);
  const report = await threads.evaluate({
    labels: table.labels,
    candidateScores: scores[0]!,
    incumbentScores: scores[1]!,
    attributes: table.sliceColumns,
    thresholdRule: { kind: 'fixed', threshold: 0.2 },
    policy,
  });
  const t3 = performance.now();
  await threads.close();
  rss.push(process.memoryUsage().rss);
  const bytes = canonicalBytes(report);
  const digest = sha256Hex(bytes);
  fs.writeFileSync(path.join(dir, `report-${digest.slice(0, 12)}.json`), bytes);
  const t4 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const s = (a: number, b: number) => +((b - a) / 1000).toFixed(3);
  console.log(
    JSON.stringify({
      seconds: s(t0, t4),
      read: s(tOpened, tRead),
      // opened (read, digest-checked, parsed) + joined
      predictions: +(s(t0, tOpened) + s(tRead, t2)).toFixed(3),
      evaluate: s(t2, t3),
      store: s(t3, t4),
      slices: report.slices.length,
      reportSha256: digest,
      overallAuc: report.slices[0]!.candidate.auc.estimate,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      rssAfterPhasesMB: rss.map((b) => Math.round(b / 2 ** 20)),
      // CPU time of the whole process (startup included): a load-independent companion to the wall time
      cpuSeconds: +((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(3),
      // CPU time of the timed phases alone (all threads: GC helpers count too): what the wall time would be
      // on an otherwise idle core, as the run is single-threaded apart from GC
      timedCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(3),
    }),
  );
}

function findPython(): string | null {
  const candidates = [process.env.VIGIL_BENCH_PYTHON, '.tools/py-bench/bin/python', 'python3'].filter(Boolean);
  for (const py of candidates as string[]) {
    const r = spawnSync(py, ['-c', 'import numpy, pandas'], {
      stdio: 'ignore',
    });
    if (r.status === 0) return py;
  }
  return null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child(process.argv[process.argv.indexOf('--child') + 1]!);
  const sizes = arg('--rows') ? [Number(arg('--rows'))] : [1_000_000, 5_000_000];
  const runs = Number(arg('--runs') ?? 5);
  const python = findPython();
  const results = [];
  for (const rows of sizes) {
    const dir = path.join(os.tmpdir(), `vigil-bench-eval-files-v1-${rows}`);
    generate(dir, rows);
    const pins = {
      candidate: sha256OfFile(path.join(dir, 'candidate.csv')),
      incumbent: sha256OfFile(path.join(dir, 'incumbent.csv')),
    };
    fs.writeFileSync(path.join(dir, 'pins.json'), JSON.stringify(pins));
    const vigil: Record<string, number>[] = [];
    const numpy: number[] = [];
    for (let r = 0; r < runs; r++) {
      const out = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', dir], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`run failed: ${out.stderr}`);
      vigil.push(JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, number>);
      if (python) {
        const py = spawnSync(python, [path.join(__dirname, 'eval-files.py'), dir], { encoding: 'utf8' });
        if (py.status !== 0) throw new Error(`numpy script failed: ${py.stderr}`);
        numpy.push(
          (
            JSON.parse(py.stdout.trim().split('\n').pop()!) as {
              seconds: number;
            }
          ).seconds,
        );
      }
    }
    const sec = median(vigil.map((v) => v.seconds!));
    const pick = (k: string) => median(vigil.map((v) => v[k]!));
    results.push({
      rows,
      runs,
      medianSeconds: sec,
      minSeconds: Math.min(...vigil.map((v) => v.seconds!)),
      maxSeconds: Math.max(...vigil.map((v) => v.seconds!)),
      rowsPerSecond: Math.round(rows / sec),
      medianRead: pick('read'),
      medianPredictions: pick('predictions'),
      medianEvaluate: pick('evaluate'),
      medianStore: pick('store'),
      medianCpuSeconds: pick('cpuSeconds'),
      medianTimedCpuSeconds: pick('timedCpuSeconds'),
      peakRssMB: Math.max(...vigil.map((v) => v.peakRssMB!)),
      slices: vigil[0]!.slices,
      numpyMedianSeconds: python ? median(numpy) : null,
      ratioToNumpy: python ? +(sec / median(numpy)).toFixed(3) : null,
      loadAverage: os.loadavg().map((l) => +l.toFixed(2)),
    });
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
  else
    for (const r of results) {
      console.log(
        `${r.rows} rows, ${r.slices} slices: median ${r.medianSeconds.toFixed(3)} s (min ${r.minSeconds}, max ${r.maxSeconds}, ${r.runs} runs), ${r.rowsPerSecond} rows/s, peak RSS ${r.peakRssMB} MB`,
      );
      console.log(
        `  read ${r.medianRead} s, prediction files ${r.medianPredictions} s, evaluate ${r.medianEvaluate} s, store ${r.medianStore} s; CPU ${r.medianTimedCpuSeconds} s timed (${r.medianCpuSeconds} s with process start)`,
      );
      console.log(
        r.numpyMedianSeconds === null
          ? '  numpy/pandas comparison skipped (no Python with numpy and pandas)'
          : `  numpy/pandas script: median ${r.numpyMedianSeconds.toFixed(3)} s; Vigil/numpy = ${r.ratioToNumpy}`,
      );
      console.log(`  load average ${r.loadAverage.join(' ')}`);
    }
}

void main();
