/**
 * Drives the inference gateway with the simulated cohort: OIP v2 inference requests at a steady rate, and
 * each case's outcome posted to the gateway's telemetry ingest at its own delay after its answer, interleaved
 * with the requests that follow (as a hospital's results arrive) — so canary and monitoring windows can be
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
  /**
   * Median delay of a case's outcome after its answer (ms): each case's outcome is posted 0.5–1.5 × this
   * after its own request (uniform, fixed per case id), while later requests are still being sent.
   */
  outcomeDelayMs?: number;
  outcomeSource?: OutcomeSource;
  /** Case ids are `<seed>:<i>`: the same seed sends the same cases (and lands them on the same arms). */
  seed?: string;
  scenario?: TrafficScenario;
  /**
   * The cases to send instead of the simulated cohort (e.g. a CSV's rows, src/stack/csv-traffic.ts), with the feature
   * names their `features` are in: each request carries them in this order. `cases`, `seed` and `scenario` then
   * do not apply.
   */
  input?: { columns: readonly string[]; cases: SimCase[] };
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
/** How often due outcomes are gathered and posted (ms). */
const OUTCOME_TICK_MS = 250;

/** A case's outcome delay: 0.5–1.5 × the median, uniform, fixed by its id (FNV-1a), so runs repeat. */
export function outcomeDelayFor(caseId: string, medianMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < caseId.length; i++) h = Math.imul(h ^ caseId.charCodeAt(i), 0x01000193);
  return medianMs * (0.5 + (h >>> 0) / 2 ** 32);
}

/** The cases the driver sends: the given input, or the cohort under the scenario (population shift, outcome delays). */
export function driverCases(
  opts: Pick<GatewayDriverOptions, 'cases' | 'seed' | 'scenario' | 'interval' | 'phase' | 'input'>,
): SimCase[] {
  if (opts.input) return opts.input.cases;
  const cases = generateCohort(opts.seed ?? 'gateway', opts.cases);
  return opts.scenario
    ? applyScenario(cases, FEATURES, opts.scenario, opts.interval ?? 0, opts.phase ?? 'canary')
    : cases;
}

/**
 * One OIP v2 inference request for a case: its (production) features as one tensor per name of `columns`, in that
 * order, and its slice attributes as parameters.
 */
export function inferRequestFor(c: SimCase, columns: readonly string[] = FEATURES): unknown {
  return {
    id: c.caseId,
    parameters: { case_id: c.caseId, site: c.site, sex: c.sex, age_band: c.ageBand },
    inputs: columns.map((name, k) => ({ name, shape: [1], datatype: 'FP32', data: [c.features[k]!] })),
  };
}

/** What the two phases count as they go (the summary is built from it). */
type Tally = Pick<
  GatewayDriverSummary,
  'sent' | 'byRoute' | 'byVersion' | 'ok' | 'failed' | 'outcomesPosted' | 'outcomeFailures' | 'firstError'
>;

/** Sends the cohort to the gateway at `rate`, then posts the outcomes that have arrived; never throws on HTTP errors. */
export async function driveGateway(opts: GatewayDriverOptions): Promise<GatewayDriverSummary> {
  if (!(opts.rate > 0)) throw new Error('rate must be > 0');
  const cases = driverCases(opts);
  const t: Tally = {
    sent: cases.map((c) => ({
      caseId: c.caseId,
      site: c.site,
      route: null,
      modelVersion: null,
      score: null,
      label: c.label,
      outcomePosted: false,
    })),
    byRoute: {},
    byVersion: {},
    ok: 0,
    failed: 0,
    outcomesPosted: 0,
    outcomeFailures: 0,
    firstError: null,
  };
  const startedAt = new Date().toISOString();
  const outcomes = new OutcomePoster(opts, cases, t);
  await sendInferences(opts, cases, t, (i) => outcomes.answered(i));
  const inferenceEndedAt = new Date().toISOString();
  await outcomes.finish();
  return {
    model: opts.model,
    cases: cases.length,
    ok: t.ok,
    failed: t.failed,
    byRoute: t.byRoute,
    byVersion: t.byVersion,
    outcomesPosted: t.outcomesPosted,
    outcomesWithheld: cases.filter((c, i) => t.sent[i]!.route !== null && c.labelled === false).length,
    outcomeFailures: t.outcomeFailures,
    startedAt,
    inferenceEndedAt,
    endedAt: new Date().toISOString(),
    sent: t.sent,
    firstError: t.firstError,
  };
}

/** One inference per case on the rate's schedule, at most `maxInFlight` at once; `answered(i)` per answer. */
async function sendInferences(
  opts: GatewayDriverOptions,
  cases: SimCase[],
  t: Tally,
  answered: (i: number) => void,
): Promise<void> {
  const maxInFlight = opts.maxInFlight ?? 64;
  const startedMs = Date.now();
  const inFlight = new Set<Promise<void>>();
  const progressEvery = Math.max(1, Math.round(opts.rate));
  const progress = (n: number): void =>
    opts.onProgress?.({ sent: n, total: cases.length, failed: t.failed, phase: 'inference' });
  for (let i = 0; i < cases.length; i++) {
    const due = startedMs + (i * 1000) / opts.rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    const k = i;
    const p = infer(opts, cases[k]!, k, t).then(() => {
      if (t.sent[k]!.route !== null) answered(k);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if ((i + 1) % progressEvery === 0) progress(i + 1);
  }
  await Promise.all(inFlight);
  progress(cases.length);
}

async function infer(opts: GatewayDriverOptions, c: SimCase, i: number, t: Tally): Promise<void> {
  const fail = (msg: string): void => {
    t.failed++;
    t.firstError ??= msg;
  };
  try {
    const res = await (opts.fetchImpl ?? fetch)(`${baseUrl(opts)}/v2/models/${encodeURIComponent(opts.model)}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(inferRequestFor(c, opts.input?.columns)),
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
    t.sent[i]!.route = route;
    t.sent[i]!.modelVersion = version;
    t.sent[i]!.score = body.outputs?.find((x) => x.name === 'score')?.data[0] ?? null;
    t.byRoute[route] = (t.byRoute[route] ?? 0) + 1;
    t.byVersion[version] = (t.byVersion[version] ?? 0) + 1;
    t.ok++;
  } catch (err) {
    fail(`case ${i}: ${(err as Error).message}`);
  }
}

/**
 * Posts each answered case's outcome once its delay has passed (cases whose outcome has not arrived under
 * the scenario, `labelled: false`, are withheld), gathering the due ones every OUTCOME_TICK_MS into batches.
 */
class OutcomePoster {
  private readonly due: Array<{ i: number; atMs: number }> = [];
  private readonly timer: NodeJS.Timeout;
  private posting: Promise<void> = Promise.resolve();
  private total = 0;

  constructor(
    private readonly opts: GatewayDriverOptions,
    private readonly cases: SimCase[],
    private readonly t: Tally,
  ) {
    this.timer = setInterval(() => this.tick(), OUTCOME_TICK_MS);
  }

  answered(i: number): void {
    const c = this.cases[i]!;
    if (c.labelled === false) return;
    this.total++;
    this.due.push({ i, atMs: Date.now() + outcomeDelayFor(c.caseId, this.opts.outcomeDelayMs ?? 0) });
  }

  /** Waits for the outstanding outcomes' delays and posts them. */
  async finish(): Promise<void> {
    while (this.due.length > 0) {
      const next = Math.min(...this.due.map((d) => d.atMs));
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      this.tick();
    }
    clearInterval(this.timer);
    await this.posting;
    this.progress();
  }

  private tick(): void {
    const now = Date.now();
    const ready: number[] = [];
    for (let k = this.due.length - 1; k >= 0; k--) {
      if (this.due[k]!.atMs <= now) ready.push(this.due.splice(k, 1)[0]!.i);
    }
    if (ready.length === 0) return;
    ready.sort((a, b) => a - b);
    // One post at a time, in order: a slow ingest delays outcomes rather than piling requests up.
    this.posting = this.posting.then(async () => {
      for (let k = 0; k < ready.length; k += OUTCOME_BATCH) await this.post(ready.slice(k, k + OUTCOME_BATCH));
    });
  }

  private async post(batch: number[]): Promise<void> {
    const { opts, t } = this;
    const observedAt = new Date().toISOString();
    const events = batch.map((i) => ({
      model: opts.model,
      case_id: this.cases[i]!.caseId,
      label: this.cases[i]!.label,
      source: opts.outcomeSource ?? 'clinician_review',
      observed_at: observedAt,
    }));
    try {
      const res = await (opts.fetchImpl ?? fetch)(`${baseUrl(opts)}/v2/telemetry/outcomes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.ingestToken}` },
        body: JSON.stringify({ events }),
      });
      const text = await res.text();
      if (res.status !== 202) {
        t.outcomeFailures += batch.length;
        t.firstError ??= `outcomes: HTTP ${res.status} ${text.slice(0, 200)}`;
        return;
      }
      t.outcomesPosted += batch.length;
      for (const i of batch) t.sent[i]!.outcomePosted = true;
    } catch (err) {
      t.outcomeFailures += batch.length;
      t.firstError ??= `outcomes: ${(err as Error).message}`;
    }
    // Progress every OUTCOME_BATCH outcomes (ticks are frequent), and once at the end (finish).
    if (Math.floor(t.outcomesPosted / OUTCOME_BATCH) > Math.floor((t.outcomesPosted - batch.length) / OUTCOME_BATCH))
      this.progress();
  }

  progress(): void {
    const t = this.t;
    this.opts.onProgress?.({ sent: t.outcomesPosted, total: this.total, failed: t.outcomeFailures, phase: 'outcomes' });
  }
}

const baseUrl = (opts: GatewayDriverOptions): string => opts.url.replace(/\/+$/, '');

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
    `driving ${o.url} (${o.model}): ${cases} cases at ${o.rate}/s, each outcome 0.5–1.5 × ${o.outcomeDelaySeconds}s after its request\n`,
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
