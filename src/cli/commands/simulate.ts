/**
 * `vigil simulate`: run a canary in a simulated world (src/sim/canary-simulation.ts) without any server: the
 * policy's steps and sequential guardrails against a scenario (e.g. a pipeline fault at one site), look by
 * look; optionally the telemetry-shaped events (predictions with delayed outcomes) as NDJSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEMO_DIR, loadPolicyFile } from '../../demo/seed';
import { SequentialGuardrailsSchema, TrafficScenarioSchema, type TrafficScenario } from '../../domain';
import { loadScorer } from '../../models';
import { simulateCanary, type SimulatedLook } from '../../sim/canary-simulation';
import { runGatewayDriver } from '../../sim/gateway-driver';
import {
  CliInputError,
  numberOption,
  parseWith,
  readStructured,
  scenarioFromOptions,
  type ScenarioOptions,
} from './input-files';
import type { CommandIo } from '../context';

type Io = CommandIo;

interface SimulateOpts extends ScenarioOptions {
  candidate: string;
  incumbent: string;
  policy: string;
  guardrails?: string;
  seed: string;
  events?: string;
  json?: boolean;
  gateway?: string;
  model: string;
  release?: string;
  rate: number;
  duration: number;
  outcomeDelay: number;
  interval: number;
}

const HELP = `
Without --site (or --scenario) the world is healthy: use it to see the false-alarm side. With --site the
candidate's feature pipeline is faulty there (the candidate sees scale·x + offset for --feature; production
sees the true value), from canary interval --from-interval on. --labelled-share < 1 leaves outcomes
outstanding at each analysis. Results are reproducible for a --seed.

Defaults are the bundled demo (models in demo/models, policy demo/policies/demo.yaml).

Exit codes: 0 the simulated canary was promoted; 3 it rolled back; 2 usage error.

With --gateway <url> nothing is simulated locally: the cohort (--seed, --scenario population shift and
--labelled-share) is sent to the inference gateway at --rate for --duration, and each case's outcome is posted
0.5–1.5 × --outcome-delay seconds after its own answer, while later requests are still sent; progress on stderr, a summary (--json) on stdout; exit 1 if requests failed.
Requests carry the production features, so a candidate-pipeline fault (--site) cannot show through the gateway.`;

export function registerSimulateCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  const print = (text: string): void => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const num = numberOption;
  program
    .command('simulate')
    .description(
      "simulate a canary with the policy's steps and sequential guardrails against a regression scenario (no server needed)",
    )
    .option(
      '--candidate <model>',
      'candidate model file (.json logistic or .onnx)',
      path.join(DEMO_DIR, 'models/sepsis-alert-2.0.0.json'),
    )
    .option('--incumbent <model>', 'incumbent model file', path.join(DEMO_DIR, 'models/sepsis-alert-1.4.0.json'))
    .option('--policy <file>', 'release policy (YAML/JSON)', path.join(DEMO_DIR, 'policies/demo.yaml'))
    .option('--scenario <file>', 'a traffic scenario (JSON or YAML)')
    .option('--guardrails <file>', 'sequential guardrails when the policy has none')
    .option('--site <site>', 'site whose candidate pipeline is faulty (omit for a healthy world)')
    .option('--feature <name>', 'feature the faulty pipeline corrupts', 'x0')
    .option('--scale <n>', 'the candidate sees scale·x + offset', num('scale'), 0)
    .option('--offset <n>', 'see --scale', num('offset'), 0)
    .option('--from-interval <n>', 'canary interval (0-based) the fault starts at', num('from-interval'), 0)
    .option('--labelled-share <p>', 'share of outcomes arrived at each analysis', num('labelled-share'), 1)
    .option('--seed <text>', 'seed of the simulated world', 'vigil')
    .option('--events <file>', 'write prediction and (delayed) outcome events as NDJSON')
    .option('--json', 'print each look as a JSON line, then the result')
    .option(
      '--gateway <url>',
      'instead: send the simulated cohort to an inference gateway, then post outcomes (token: VIGIL_GATEWAY_INGEST_TOKEN)',
    )
    .option(
      '--model <name>',
      "the model's name: the canary's patients are drawn with it as the gateway draws them (and with --gateway, the URL's model)",
      'sepsis-alert',
    )
    .option('--release <id>', "the release id the canary is salted with when the policy's canary.saltPerRelease is on")
    .option('--rate <n>', 'with --gateway: inference requests per second', num('rate'), 20)
    .option('--duration <seconds>', 'with --gateway: how long to send', num('duration'), 30)
    .option(
      '--outcome-delay <seconds>',
      'with --gateway: median delay of each outcome after its request',
      num('outcome-delay'),
      5,
    )
    .option('--interval <n>', 'with --gateway: live interval (0-based) the scenario applies at', num('interval'), 0)
    .addHelpText('after', HELP)
    .action(async (opts: SimulateOpts) => {
      try {
        if (opts.gateway) return setExit(await throughGateway({ ...opts, gateway: opts.gateway }, io));
        setExit(await simulate(opts, io, print));
      } catch (err) {
        if (!(err instanceof CliInputError)) throw err;
        io.stderr(`vigil: ${err.message}\n`);
        setExit(2);
      }
    });
}

async function simulate(opts: SimulateOpts, io: Io, print: (t: string) => void): Promise<number> {
  const policy = await loadPolicyFile(opts.policy).catch((err: Error) => {
    throw new CliInputError(`policy ${opts.policy}: ${err.message}`);
  });
  const guardrails = opts.guardrails
    ? parseWith(SequentialGuardrailsSchema, readStructured(opts.guardrails), opts.guardrails)
    : policy.canary.sequential;
  if (!guardrails)
    throw new CliInputError(
      `policy ${opts.policy} has no canary.sequential guardrails; give some with --guardrails <file>`,
    );
  // The gateway would salt this policy's canary with the release too: without it the arms could not match.
  if (policy.canary.saltPerRelease && !opts.release)
    throw new CliInputError(
      `policy ${opts.policy} salts the canary per release (canary.saltPerRelease): give the release id with --release <id>`,
    );
  const scenario = scenarioFromOptions(opts);
  const [candidate, incumbent] = await Promise.all([model(opts.candidate), model(opts.incumbent)]);
  let events: fs.WriteStream | undefined;
  if (opts.events) events = fs.createWriteStream(opts.events);
  try {
    if (!opts.json)
      print(
        `simulating ${path.basename(opts.candidate)} vs ${path.basename(opts.incumbent)} under ${policy.id}@${policy.version}; scenario: ${scenario.name}`,
      );
    const result = await simulateCanary({
      policy,
      guardrails,
      scenario,
      candidate: { scorer: candidate.scorer, version: candidate.version },
      incumbent: { scorer: incumbent.scorer, version: incumbent.version },
      seed: opts.seed,
      model: opts.model,
      ...(opts.release ? { release: opts.release } : {}),
      onLook: (l) =>
        opts.json ? io.stdout(`${JSON.stringify({ event: 'look', ...l })}\n`) : print(formatLook(l, scenario)),
      ...(events ? { onEvents: (evs) => events!.write(evs.map((e) => JSON.stringify(e)).join('\n') + '\n') } : {}),
    });
    if (opts.json)
      io.stdout(`${JSON.stringify({ event: 'result', outcome: result.outcome, summary: result.summary, scenario })}\n`);
    else print(result.summary);
    return result.outcome === 'promoted' ? 0 : 3;
  } finally {
    await Promise.all([candidate.scorer.close(), incumbent.scorer.close()]);
    if (events) await new Promise((r) => events!.end(r));
  }
}

/** `--gateway`: the cohort through the real gateway (src/sim/gateway-driver.ts); only population shifts show there. */
async function throughGateway(opts: SimulateOpts & { gateway: string }, io: Io): Promise<number> {
  const scenario = opts.scenario
    ? parseWith(TrafficScenarioSchema, readStructured(opts.scenario), opts.scenario)
    : opts.labelledShare < 1
      ? parseWith(
          TrafficScenarioSchema,
          { name: 'delayed outcomes', labelledShare: opts.labelledShare },
          'the scenario options',
        )
      : undefined;
  if (opts.site)
    io.stderr(
      'vigil: --site is a candidate-pipeline fault; it cannot be reproduced through the gateway and is ignored\n',
    );
  return runGatewayDriver(
    {
      url: opts.gateway,
      model: opts.model,
      rate: opts.rate,
      durationSeconds: opts.duration,
      outcomeDelaySeconds: opts.outcomeDelay,
      seed: opts.seed,
      interval: opts.interval,
      json: opts.json === true,
      ...(scenario ? { scenario } : {}),
    },
    io,
  );
}

function formatLook(l: SimulatedLook, scenario: TrafficScenario): string {
  const s = (x: number | null) => (x === null ? '  —  ' : `${(x * 100).toFixed(1)}%`);
  const site = scenario.regression?.site;
  const at =
    site && l.bySite[site] ? `  ${site}: canary ${s(l.bySite[site].canary)} control ${s(l.bySite[site].control)}` : '';
  const b = (x: number | null) => (x === null ? '—' : x.toFixed(3));
  const head = `look ${String(l.look).padStart(2)} step ${l.step + 1}${l.extension ? `+${l.extension}` : ''} (${l.percent}%)  sensitivity canary ${s(l.canary.sensitivity)} control ${s(l.control.sensitivity)}${at}  drop ${b(l.drop)} [${b(l.lower)}, ${b(l.upper)}]  ${l.verdict.toUpperCase()}`;
  // One line per cohort: its own verdict and statistics (the guardrails per clinical cohort).
  const cohorts = (l.cohorts ?? []).map(
    (c) =>
      `    ${c.cohort.padEnd(14)} ${c.verdict.toUpperCase().padEnd(12)} canary ${s(c.canary.sensitivity)} (${c.canary.truePositives}/${c.canary.positives}) control ${s(c.control.sensitivity)} (${c.control.truePositives}/${c.control.positives})  alerts ${s(c.canary.alertRate)} vs ${s(c.control.alertRate)}${c.comparison ? `  drop ${b(c.comparison.drop)} [${b(c.comparison.lower)}, ${b(c.comparison.upper)}]` : ''}${c.floor.sensitivity ? `  floor: sens ≤ ${b(c.floor.sensitivity.canaryUpper)} vs ${b(c.floor.sensitivity.limit)}` : ''}${c.floor.alertRate ? `, alerts ≤ ${b(c.floor.alertRate.canaryUpper)} vs ${b(c.floor.alertRate.limit)}` : ''}`,
  );
  return [head, ...cohorts].join('\n');
}

async function model(file: string) {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new CliInputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const scorer = await loadScorer(bytes, file).catch((err: Error) => {
    throw new CliInputError(`${file}: ${err.message}`);
  });
  const version = /(\d+\.\d+\.\d+)/.exec(path.basename(file))?.[1] ?? path.basename(file);
  return { scorer, version };
}
