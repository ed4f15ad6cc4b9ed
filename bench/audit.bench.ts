/**
 * Audit replay benchmark: the golden full-lifecycle history (test/histories/v0.3.0/
 * release-lifecycle-released.json) replayed with Worker.runReplayHistory against the current workflow
 * bundle, as `vigil audit` does, plus the decision recomputation over the same history.
 * The bundle is built once, outside the timing; one warm-up run, then N timed runs.
 *
 *   npm run bench:audit [-- --runs 7] [--json]
 *
 * Figures go by hand into the "Audit replay (bench:audit)" section of docs/benchmarks.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import pino from 'pino';
import { completedActivities, describeRun, recomputeDecisions, replayAgainst } from '../src/audit';
import { installRuntimeLogger } from '../src/workers/runtime';

const TARGET_SECONDS = 2;
const HISTORIES = path.resolve(__dirname, '../test/histories');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
      version: { type: 'string', default: 'v0.3.0' },
    },
  });
  const runs = Number(values.runs);
  installRuntimeLogger(pino({ level: 'error' }, pino.destination(2)));
  const dir = path.join(HISTORIES, values.version);
  const file = 'release-lifecycle-released.json';
  const json = fs.readFileSync(path.join(dir, file), 'utf8');
  const workflowId = (
    JSON.parse(fs.readFileSync(path.join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>
  )[file]!;
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const t0 = performance.now();
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: quiet });
  const bundleSeconds = (performance.now() - t0) / 1000;

  const once = async (): Promise<{ replay: number; recompute: number; events: number }> => {
    const a = performance.now();
    const run = await describeRun(workflowId, 'golden', 'archive', json);
    const [outcome] = await replayAgainst(bundle, [run]);
    if (!outcome?.ok) throw new Error(`replay failed: ${outcome?.error}`);
    const b = performance.now();
    recomputeDecisions(completedActivities(run), []);
    const c = performance.now();
    return { replay: (b - a) / 1000, recompute: (c - b) / 1000, events: run.history.events?.length ?? 0 };
  };

  await once(); // warm-up
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  const replays = results.map((r) => r.replay).sort((x, y) => x - y);
  const median = replays[Math.floor(replays.length / 2)]!;
  const summary = {
    history: path.join(values.version, file),
    events: results[0]!.events,
    runs,
    bundleSeconds: round(bundleSeconds),
    replayMedianSeconds: round(median),
    replayMinSeconds: round(replays[0]!),
    replayMaxSeconds: round(replays[replays.length - 1]!),
    recomputeMedianMs: round(results.map((r) => r.recompute * 1000).sort((x, y) => x - y)[Math.floor(runs / 2)]!),
    node: process.version,
    targetSeconds: TARGET_SECONDS,
    met: median <= TARGET_SECONDS,
  };
  if (values.json) {
    console.log(JSON.stringify(summary));
    return;
  }
  console.log(
    `audit replay of ${summary.history} (${summary.events} events), bundle built once in ${summary.bundleSeconds} s`,
  );
  console.log(
    `replay: median ${summary.replayMedianSeconds} s, min ${summary.replayMinSeconds} s, max ${summary.replayMaxSeconds} s over ${runs} runs (target ≤ ${TARGET_SECONDS} s: ${summary.met ? 'met' : 'MISSED'})`,
  );
  console.log(`decision recomputation: median ${summary.recomputeMedianMs} ms`);
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
