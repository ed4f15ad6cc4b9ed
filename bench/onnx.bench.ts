/**
 * ONNX inference throughput: a 30-feature logistic model (MatMul + Add + Sigmoid) run by onnxruntime-node
 * on the CPU over 1,000,000 float32 rows, through OnnxModel.score (batched, one session).
 *
 *   npm run bench:onnx            # human-readable
 *   npm run bench:onnx -- --json  # one JSON object
 *   options: --rows N --runs N --batch N --threads N
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { logisticToOnnx } from '../src/models/onnx-logistic';
import { loadScorer } from '../src/models';
import { DEFAULT_BATCH_SIZE, OnnxModel } from '../src/models/onnx-runner';
import { prng } from '../src/sim/prng';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const rows = arg('rows', 1_000_000);
  const runs = Math.max(5, arg('runs', 7));
  const batchSize = arg('batch', DEFAULT_BATCH_SIZE);
  const threads = arg('threads', 2);
  const F = 30;

  const rand = prng('bench:onnx');
  const features = Array.from({ length: F }, (_, i) => `f${i}`);
  const weights = features.map(() => rand() * 2 - 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-onnx-'));
  const file = path.join(dir, 'bench-30.onnx');
  fs.writeFileSync(file, logisticToOnnx({ name: 'bench', version: '30f', features, weights, bias: -0.5 }));

  const x = new Float32Array(rows * F);
  for (let i = 0; i < x.length; i++) x[i] = rand() * 4 - 2;

  const model = await OnnxModel.load(fs.readFileSync(file), { batchSize, intraOpNumThreads: threads });
  await model.score(x.subarray(0, Math.min(rows, batchSize) * F), Math.min(rows, batchSize), F); // warm-up
  await model.score(x, rows, F);
  const seconds: number[] = [];
  let checksum = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const y = await model.score(x, rows, F);
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    checksum += y[rows - 1]!;
  }
  await model.close();

  // The same model through the Scorer interface the evaluation uses (adds float64 conversion and score checks).
  const scorer = await loadScorer(fs.readFileSync(file), file, { onnx: { batchSize, intraOpNumThreads: threads } });
  const input = { featureNames: features, features: x, rows, caseIds: new Array<string>(rows).fill('') };
  await scorer.score(input);
  const scorerSeconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await scorer.score(input);
    scorerSeconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  await scorer.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const sorted = [...seconds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const result = {
    bench: 'onnx',
    model: `logistic, ${F} features (MatMul + Add + Sigmoid), float32`,
    runtime: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common} (CPU)`,
    node: process.version,
    cpus: os.cpus().length,
    rows,
    batchSize,
    intraOpNumThreads: threads,
    runs,
    medianSeconds: Number(median.toFixed(4)),
    rowsPerSecond: Math.round(rows / median),
    minRowsPerSecond: Math.round(rows / sorted[sorted.length - 1]!),
    maxRowsPerSecond: Math.round(rows / sorted[0]!),
    scorerRowsPerSecond: Math.round(rows / [...scorerSeconds].sort((a, b) => a - b)[Math.floor(runs / 2)]!),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    target: 200_000,
    checksum: Number(checksum.toFixed(6)),
  };
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(
    `ONNX inference: ${result.model}, ${rows.toLocaleString('en-US')} rows, batch ${batchSize}, ${threads} intra-op thread(s)`,
  );
  console.log(
    `  median ${result.medianSeconds}s over ${runs} runs → ${result.rowsPerSecond.toLocaleString('en-US')} rows/s (range ${result.minRowsPerSecond.toLocaleString('en-US')}–${result.maxRowsPerSecond.toLocaleString('en-US')})`,
  );
  console.log(
    `  through loadScorer().score (float64 + checks): ${result.scorerRowsPerSecond.toLocaleString('en-US')} rows/s (median)`,
  );
  console.log(
    `  peak RSS ${result.peakRssMiB} MiB; target ≥ 200,000 rows/s: ${result.rowsPerSecond >= result.target ? 'met' : 'NOT met'}`,
  );
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
