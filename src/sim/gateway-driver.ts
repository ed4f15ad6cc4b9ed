/**
 * Drives the inference gateway with the simulated cohort: OIP v2 inference requests at a steady rate, then
 * each case's outcome posted to the gateway's telemetry ingest after a delay — so canary and monitoring can be
 * measured from real gateway telemetry (VIGIL_LIVE_SOURCE=telemetry) without a hospital.
 *
 * Every request carries the production pipeline's features (`SimCase.features`). Through the gateway a
 * scenario's population shift therefore shows (both models see the moved values), but a candidate-only
 * pipeline fault (`regression`, `candidateFeatures`) cannot: the gateway feeds the same input to whichever
 * version the route picks. Reproducing such a fault needs a faulty candidate backend, not a faulty client.
 */
import type { TrafficScenario } from '../domain';
import type { OutcomeSource } from '../telemetry/events';
import { FEATURES, generateCohort } from './cohort';
import type { SimCase } from '../contracts/traffic';
import { applyScenario } from './scenario';

export interface GatewayDriverOptions {
  /** Gateway base URL, e.g. http://127.0.0.1:8090. */
  url: string;
  model: string;
  /** Inference requests per second. */
  rate: number;
  /** Number of cases; they are sent over cases / rate seconds. */
  cases: number;
  /** Bearer token of outcome ingest (VIGIL_GATEWAY_INGEST_TOKEN, or the control token). */
  ingestToken: string;
  /** Wait this long after the last inference before posting outcomes (ms). */
  outcomeDelayMs?: number;
  outcomeSource?: OutcomeSource;
  /** Case ids are `<seed>:<i>`: the same seed sends the same cases (and lands them on the same arms). */
  seed?: string;
  scenario?: TrafficScenario;
  /** The live interval (0-based) the scenario is applied at, and its phase. */
  interval?: number;
  phase?: 'canary' | 'monitoring';
  /** Concurrent requests at most (a slow gateway delays the schedule rather than piling up). */
  maxInFlight?: number;
  onProgress?: (p: { sent: number; total: number; failed: number; phase: 'inference' | 'outcomes' }) => void;
  fetchImpl?: typeof fetch;
}

export interface GatewayDriverSummary {
  model: string;
  cases: number;
  /** Inference answered 200, by route and by serving version. */
  ok: number;
  failed: number;
  byRoute: Record<string, number>;
  byVersion: Record<string, number>;
  /** Outcomes posted (and accepted), and outcomes held back (scenario labelledShare < 1). */
  outcomesPosted: number;
  outcomesWithheld: number;
  outcomeFailures: number;
  /** Wall clock of the first request and just after the last answer. */
  startedAt: string;
  inferenceEndedAt: string;
  endedAt: string;
  /** What each case was sent as, for callers that check the arms (raw ids: keep them out of evidence). */
  sent: Array<{
    caseId: string;
    site: string;
    route: string | null;
    modelVersion: string | null;
    score: number | null;
    label: 0 | 1;
    outcomePosted: boolean;
  }>;
  firstError: string | null;
}

const OUTCOME_BATCH = 500;

/** The cases the driver sends: the cohort under the scenario (population shift, outcome delays). */
export function driverCases(
  opts: Pick<GatewayDriverOptions, 'cases' | 'seed' | 'scenario' | 'interval' | 'phase'>,
): SimCase[] {
  const cases = generateCohort(opts.seed ?? 'gateway', opts.cases);
  return opts.scenario
    ? applyScenario(cases, FEATURES, opts.scenario, opts.interval ?? 0, opts.phase ?? 'canary')
    : cases;
}

/** One OIP v2 inference request for a case: the production features and its slice attributes as parameters. */
export function inferRequestFor(c: SimCase): unknown {
  return {
    id: c.caseId,
    parameters: { case_id: c.caseId, site: c.site, sex: c.sex, age_band: c.ageBand },
    inputs: FEATURES.map((name, k) => ({ name, shape: [1], datatype: 'FP32', data: [c.features[k]!] })),
  };
}

export async function driveGateway(opts: GatewayDriverOptions): Promise<GatewayDriverSummary> {
  if (!(opts.rate > 0)) throw new Error('rate must be > 0');
  const doFetch = opts.fetchImpl ?? fetch;
  const base = opts.url.replace(/\/+$/, '');
  const cases = driverCases(opts);
  const maxInFlight = opts.maxInFlight ?? 64;
  const sent: GatewayDriverSummary['sent'] = cases.map((c) => ({
    caseId: c.caseId,
    site: c.site,
    route: null,
    modelVersion: null,
    score: null,
    label: c.label,
    outcomePosted: false,
  }));
  const byRoute: Record<string, number> = {};
  const byVersion: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  const fail = (msg: string): void => {
    failed++;
    firstError ??= msg;
  };
  const progress = (phase: 'inference' | 'outcomes', n: number): void =>
    opts.onProgress?.({ sent: n, total: cases.length, failed, phase });

  const startedMs = Date.now();
  const startedAt = new Date(startedMs).toISOString();
  const inFlight = new Set<Promise<void>>();
  const progressEvery = Math.max(1, Math.round(opts.rate));
  for (let i = 0; i < cases.length; i++) {
    const due = startedMs + (i * 1000) / opts.rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const c = cases[i]!;
    const p = (async () => {
      try {
        const res = await doFetch(`${base}/v2/models/${encodeURIComponent(opts.model)}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(inferRequestFor(c)),
        });
        const text = await res.text();
        if (res.status !== 200) return fail(`case ${i}: HTTP ${res.status} ${text.slice(0, 200)}`);
        const body = JSON.parse(text) as {
          model_version?: string;
          parameters?: { route?: string };
          outputs?: Array<{ name: string; data: number[] }>;
        };
        const route = body.parameters?.route ?? 'unknown';
        const version = body.model_version ?? 'unknown';
        sent[i]!.route = route;
        sent[i]!.modelVersion = version;
        sent[i]!.score = body.outputs?.find((x) => x.name === 'score')?.data[0] ?? null;
        byRoute[route] = (byRoute[route] ?? 0) + 1;
        byVersion[version] = (byVersion[version] ?? 0) + 1;
        ok++;
      } catch (err) {
        fail(`case ${i}: ${(err as Error).message}`);
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if ((i + 1) % progressEvery === 0) progress('inference', i + 1);
  }
  await Promise.all(inFlight);
  progress('inference', cases.length);
  const inferenceEndedAt = new Date().toISOString();

  if ((opts.outcomeDelayMs ?? 0) > 0) await new Promise((r) => setTimeout(r, opts.outcomeDelayMs));
  // Outcomes of the cases that were answered and whose outcome has arrived under the scenario.
  const due = cases.map((c, i) => ({ c, i })).filter(({ c, i }) => sent[i]!.route !== null && c.labelled !== false);
  const withheld = cases.filter((c, i) => sent[i]!.route !== null && c.labelled === false).length;
  let posted = 0;
  let outcomeFailures = 0;
  for (let k = 0; k < due.length; k += OUTCOME_BATCH) {
    const batch = due.slice(k, k + OUTCOME_BATCH);
    const observedAt = new Date().toISOString();
    const events = batch.map(({ c }) => ({
      model: opts.model,
      case_id: c.caseId,
      label: c.label,
      source: opts.outcomeSource ?? 'clinician_review',
      observed_at: observedAt,
    }));
    try {
      const res = await doFetch(`${base}/v2/telemetry/outcomes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.ingestToken}` },
        body: JSON.stringify({ events }),
      });
      const text = await res.text();
      if (res.status !== 202) {
        outcomeFailures += batch.length;
        firstError ??= `outcomes: HTTP ${res.status} ${text.slice(0, 200)}`;
        continue;
      }
      posted += batch.length;
      for (const { i } of batch) sent[i]!.outcomePosted = true;
    } catch (err) {
      outcomeFailures += batch.length;
      firstError ??= `outcomes: ${(err as Error).message}`;
    }
    opts.onProgress?.({ sent: posted, total: due.length, failed: outcomeFailures, phase: 'outcomes' });
  }

  return {
    model: opts.model,
    cases: cases.length,
    ok,
    failed,
    byRoute,
    byVersion,
    outcomesPosted: posted,
    outcomesWithheld: withheld,
    outcomeFailures,
    startedAt,
    inferenceEndedAt,
    endedAt: new Date().toISOString(),
    sent,
    firstError,
  };
}

/** `vigil simulate --gateway <url>`: drive, report progress on stderr, print a summary (or --json). */
export async function runGatewayDriver(
  o: {
    url: string;
    model: string;
    rate: number;
    durationSeconds: number;
    outcomeDelaySeconds: number;
    seed: string;
    scenario?: TrafficScenario;
    interval: number;
    json: boolean;
  },
  io: { env: NodeJS.ProcessEnv; stdout: (t: string) => void; stderr: (t: string) => void },
): Promise<number> {
  const token = io.env.VIGIL_GATEWAY_INGEST_TOKEN ?? io.env.VIGIL_GATEWAY_CONTROL_TOKEN;
  if (!token) {
    io.stderr(
      'vigil: set VIGIL_GATEWAY_INGEST_TOKEN (or VIGIL_GATEWAY_CONTROL_TOKEN) to post outcomes to the gateway\n',
    );
    return 2;
  }
  if (!(o.rate > 0) || !(o.durationSeconds > 0) || !(o.outcomeDelaySeconds >= 0)) {
    io.stderr('vigil: --rate and --duration must be > 0, --outcome-delay ≥ 0\n');
    return 2;
  }
  if (o.scenario?.regression) {
    io.stderr(
      'vigil: note: a candidate-pipeline fault cannot be reproduced through the gateway (requests carry the production features); only population shifts and outcome delays apply\n',
    );
  }
  const cases = Math.max(1, Math.round(o.rate * o.durationSeconds));
  io.stderr(
    `driving ${o.url} (${o.model}): ${cases} cases at ${o.rate}/s, outcomes ${o.outcomeDelaySeconds}s after the last request\n`,
  );
  const s = await driveGateway({
    url: o.url,
    model: o.model,
    rate: o.rate,
    cases,
    ingestToken: token,
    outcomeDelayMs: o.outcomeDelaySeconds * 1000,
    seed: o.seed,
    interval: o.interval,
    ...(o.scenario ? { scenario: o.scenario } : {}),
    onProgress: (p) => io.stderr(`  ${p.phase}: ${p.sent}/${p.total}${p.failed ? ` (${p.failed} failed)` : ''}\n`),
  });
  const { sent: _sent, ...summary } = s;
  if (o.json) io.stdout(`${JSON.stringify(summary)}\n`);
  else {
    const routes = Object.entries(s.byRoute)
      .map(([r, n]) => `${r} ${n}`)
      .join(', ');
    io.stdout(
      `${s.ok}/${s.cases} answered (${routes || 'none'}); ${s.failed} failed; ${s.outcomesPosted} outcomes posted, ${s.outcomesWithheld} withheld; ${s.startedAt} – ${s.inferenceEndedAt}\n`,
    );
    if (s.firstError) io.stdout(`first error: ${s.firstError}\n`);
  }
  return s.failed > 0 || s.outcomeFailures > 0 ? 1 : 0;
}
