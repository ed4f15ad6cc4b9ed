/**
 * Offline-evaluation benchmark: 1,000,000 synthetic rows (seeded, deterministic), two models' scores,
 * 16 slices (4 sites × 2 sexes × 2 age bands) plus overall; every metric with its interval for both models,
 * the paired DeLong test on every slice, and a policy exercising each criterion kind.
 *
 *   npm run bench:eval            # human-readable
 *   npm run bench:eval -- --json  # one JSON object
 */
import { cpus } from 'node:os';
import { evaluateAcceptance, validateAcceptancePolicy, type EvaluationInput } from '../src/evaluation';
import { mulberry32 as prng } from '../src/sim/prng';

const ROWS = 1_000_000;
const TUNING_ROWS = 100_000;
const REPETITIONS = 7;

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];

function generate(rows: number, seed: number) {
  const rand = prng(seed);
  const labels = new Uint8Array(rows);
  const candidate = new Float64Array(rows);
  const incumbent = new Float64Array(rows);
  const site: string[] = new Array(rows);
  const sex: string[] = new Array(rows);
  const ageBand: string[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const s = Math.floor(rand() * 4);
    site[i] = SITES[s]!;
    sex[i] = rand() < 0.5 ? 'F' : 'M';
    ageBand[i] = rand() < 0.6 ? '18-64' : '65+';
    const y = rand() < 0.08 + 0.02 * s ? 1 : 0;
    labels[i] = y;
    const signal = y === 1 ? 1.6 : 0;
    const shared = gaussian(rand);
    // probabilities rounded to 1e-4 so ties occur, as they do with real model outputs
    candidate[i] = Math.round(sigmoid(-2.6 + signal + 0.9 * shared + 0.45 * gaussian(rand)) * 1e4) / 1e4;
    incumbent[i] = Math.round(sigmoid(-2.5 + 0.92 * signal + 0.9 * shared + 0.5 * gaussian(rand)) * 1e4) / 1e4;
  }
  return { labels, candidate, incumbent, site, sex, ageBand };
}

const cells = { attributes: ['site', 'sex', 'ageBand'] };
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
        value: 0.7,
        slices: cells,
        minN: 100,
      },
      {
        id: 'specificity-lower-bound',
        kind: 'metric-threshold',
        metric: 'specificity',
        bound: 'lower',
        op: '>=',
        value: 0.5,
        slices: cells,
        minN: 100,
      },
      {
        id: 'auc-non-inferior',
        kind: 'non-inferiority',
        margin: 0.01,
        alpha: 0.025,
        slices: cells,
        multiplicity: 'holm',
        minN: 100,
      },
      { id: 'auc-non-inferior-overall', kind: 'non-inferiority', margin: 0.01, alpha: 0.025 },
      { id: 'ece', kind: 'metric-threshold', metric: 'ece', op: '<=', value: 0.05 },
      {
        id: 'calibration-slope',
        kind: 'metric-threshold',
        metric: 'calibrationSlope',
        bound: 'lower',
        op: '>=',
        value: 0.8,
      },
      { id: 'sensitivity-drop', kind: 'max-drop', metric: 'sensitivity', maxDrop: 0.03, slices: cells, minN: 100 },
      { id: 'ap-drop', kind: 'max-drop', metric: 'averagePrecision', maxDrop: 0.02, slices: cells },
      { id: 'brier', kind: 'metric-threshold', metric: 'brier', bound: 'upper', op: '<=', value: 0.1, slices: cells },
    ],
  },
  { attributes: ['site', 'sex', 'ageBand'] },
);

const data = generate(ROWS, 20240611);
const tuning = generate(TUNING_ROWS, 7);
const input: EvaluationInput = {
  labels: data.labels,
  candidateScores: data.candidate,
  incumbentScores: data.incumbent,
  attributes: { site: data.site, sex: data.sex, ageBand: data.ageBand },
  thresholdRule: {
    kind: 'max-specificity-at-sensitivity',
    minSensitivity: 0.8,
    tuning: { labels: tuning.labels, candidateScores: tuning.candidate, incumbentScores: tuning.incumbent },
  },
  policy,
};

const warm = evaluateAcceptance(input);
const seconds: number[] = [];
for (let r = 0; r < REPETITIONS; r++) {
  const t0 = process.hrtime.bigint();
  evaluateAcceptance(input);
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
const sorted = [...seconds].sort((a, b) => a - b);
const result = {
  rows: ROWS,
  tuningRows: TUNING_ROWS,
  slices: warm.slices.length,
  criteria: warm.criteria.length,
  repetitions: REPETITIONS,
  medianSeconds: sorted[Math.floor(sorted.length / 2)]!,
  minSeconds: sorted[0]!,
  maxSeconds: sorted[sorted.length - 1]!,
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  cpus: cpus().length,
  node: process.version,
  accepted: warm.accepted,
};

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(result));
} else {
  console.log(
    `offline evaluation: ${ROWS} rows, ${result.slices} slices (overall + 4 sites × 2 sexes × 2 age bands), 2 models, ${result.criteria} criteria`,
  );
  console.log(
    `median ${result.medianSeconds.toFixed(3)} s  (min ${result.minSeconds.toFixed(3)}, max ${result.maxSeconds.toFixed(3)}, ${REPETITIONS} runs after warm-up)`,
  );
  console.log(`peak RSS ${result.peakRssMB} MB on ${result.cpus} CPUs, Node ${result.node}`);
  for (const c of warm.criteria) console.log(`  ${c.status.padEnd(12)} ${c.id}: ${c.reason.slice(0, 160)}`);
}
