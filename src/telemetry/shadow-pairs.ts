/**
 * The SHADOW stage measured from the inference gateway's telemetry (VIGIL_LIVE_SOURCE=telemetry). With a shadow
 * route, the gateway answers each request with the production version and mirrors it, after the answer, to the
 * shadow version; the mirror's prediction is recorded with `route: 'shadow'` and the same `at`, `caseIdHash` and
 * `routeVersion` as the production prediction it mirrors (`onShadowScored`, src/gateway/server.ts). Pairing the
 * two gives candidate and incumbent scores on the very same requests, which are compared exactly as the simulated
 * shadow compares its cases (`compareShadow`, src/stats/shadow-comparison.ts).
 *
 * Pure: `pairShadowPredictions` pairs, `measureShadowTelemetry` measures; the activity reads the segments
 * (src/activities/shadow-telemetry.ts).
 */
import type { ShadowMeasurement } from '../domain/measurements';
import type { AgreementCounts } from '../stats/agreement';
import { latencySummary } from '../stats/ranks-and-quantiles';
import { compareShadow, comparedMeasurement } from '../stats/shadow-comparison';
import type { PredictionEvent, TelemetryEvent } from './events';
import { caseLabels, DEFAULT_SOURCE_WEIGHTS } from './live-source';
import type { SourceWeights } from './segments';

export interface ShadowPairQuery {
  model: string;
  /** ISO instants: production predictions made in [from, to) are paired. */
  from: string;
  to: string;
  /** The version on the production route (the release's incumbent). */
  productionVersion: string;
  /** The version on the shadow route (the release's candidate). */
  shadowVersion: string;
}

/** One mirrored request: the production prediction and the shadow prediction of the same request. */
export interface ShadowPair {
  caseIdHash: string;
  at: string;
  routeVersion: number;
  production: PredictionEvent;
  shadow: PredictionEvent;
}

export interface ShadowPairing {
  /** In order of `at`, then case hash, then production event id. */
  pairs: ShadowPair[];
  /** The incumbent's production predictions in [from, to), each event once. */
  production: number;
  /** Production predictions without a shadow partner (mirror dropped, failed or timed out, or no shadow route yet). */
  unpaired: number;
  /** The candidate's shadow predictions in [from, to) without a production partner. */
  orphanShadow: number;
  /** Per route-table version the predictions were made under. */
  routeVersions: Array<{ routeVersion: number; production: number; shadow: number; paired: number }>;
  /** Predictions of the model in [from, to) left out: the canary route, and other versions on the production or shadow route. */
  ignored: { canary: number; otherVersions: number };
  /** (case, instant, route version) keys with more than one production prediction: paired in event-id order. */
  sharedKeys: number;
  /** Failure events in [from, to), each once: mirrors of the candidate that failed or timed out, production requests of the incumbent that got no answer. */
  failures: { shadow: number; production: number };
}

const keyOf = (e: PredictionEvent): string => `${e.caseIdHash}\u0000${e.at}\u0000${e.routeVersion}`;
const byEventId = (a: PredictionEvent, b: PredictionEvent): number =>
  a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;

/**
 * Pair each shadow prediction of `shadowVersion` with the production prediction of `productionVersion` that has
 * the same case hash, instant and route-table version. Events repeated in several segments count once (by event id).
 */
export function pairShadowPredictions(events: readonly TelemetryEvent[], q: ShadowPairQuery): ShadowPairing {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (!(from < to)) throw new RangeError(`empty or invalid shadow window [${q.from}, ${q.to})`);
  const seen = new Set<string>();
  const production = new Map<string, PredictionEvent[]>();
  const shadow = new Map<string, PredictionEvent[]>();
  const ignored = { canary: 0, otherVersions: 0 };
  const versions = new Map<number, { production: number; shadow: number; paired: number }>();
  const version = (v: number) => {
    let r = versions.get(v);
    if (!r) versions.set(v, (r = { production: 0, shadow: 0, paired: 0 }));
    return r;
  };
  let nProduction = 0;
  let nShadow = 0;
  const failures = { shadow: 0, production: 0 };
  for (const e of events) {
    if (e.kind === 'failure' && e.model === q.model && !seen.has(e.eventId)) {
      seen.add(e.eventId);
      const t = Date.parse(e.at);
      if (
        t >= from &&
        t < to &&
        e.route !== 'canary' &&
        e.modelVersion === (e.route === 'production' ? q.productionVersion : q.shadowVersion)
      )
        failures[e.route]++;
      continue;
    }
    if (e.kind !== 'prediction' || e.model !== q.model || seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    const t = Date.parse(e.at);
    if (!(t >= from && t < to)) continue;
    if (e.route === 'canary') {
      ignored.canary++;
      continue;
    }
    const want = e.route === 'production' ? q.productionVersion : q.shadowVersion;
    if (e.modelVersion !== want) {
      ignored.otherVersions++;
      continue;
    }
    const into = e.route === 'production' ? production : shadow;
    const k = keyOf(e);
    const list = into.get(k);
    if (list) list.push(e);
    else into.set(k, [e]);
    if (e.route === 'production') {
      nProduction++;
      version(e.routeVersion).production++;
    } else {
      nShadow++;
      version(e.routeVersion).shadow++;
    }
  }

  const pairs: ShadowPair[] = [];
  let sharedKeys = 0;
  for (const [k, prods] of production) {
    if (prods.length > 1) sharedKeys++;
    const mirrors = shadow.get(k);
    if (!mirrors) continue;
    prods.sort(byEventId);
    mirrors.sort(byEventId);
    const n = Math.min(prods.length, mirrors.length);
    for (let i = 0; i < n; i++) {
      const p = prods[i]!;
      pairs.push({
        caseIdHash: p.caseIdHash,
        at: p.at,
        routeVersion: p.routeVersion,
        production: p,
        shadow: mirrors[i]!,
      });
      version(p.routeVersion).paired++;
    }
  }
  pairs.sort((a, b) =>
    a.at !== b.at
      ? a.at < b.at
        ? -1
        : 1
      : a.caseIdHash !== b.caseIdHash
        ? a.caseIdHash < b.caseIdHash
          ? -1
          : 1
        : byEventId(a.production, b.production),
  );
  return {
    pairs,
    production: nProduction,
    unpaired: nProduction - pairs.length,
    orphanShadow: nShadow - pairs.length,
    routeVersions: [...versions].sort(([a], [b]) => a - b).map(([routeVersion, r]) => ({ routeVersion, ...r })),
    ignored,
    sharedKeys,
    failures,
  };
}

export interface ShadowTelemetryQuery extends ShadowPairQuery {
  /** Alert = score ≥ threshold (the release's operating threshold). */
  threshold: number;
  /** Ground-truth source weights for the labels (policy `outcomes.weights`; absent: 1 / 1 / 1). */
  weights?: SourceWeights;
  /** Outcomes the gateway accepted before this instant count (absent: all that were read). */
  asOf?: string;
  /** Disagreements to sample for adjudication (0: none), and the seed of the sample's ranking. */
  sampleSize: number;
  seed: string;
}

/** The disagreement stratum's site for a pair whose production prediction names none (a request without a site, an older gateway). */
export const TELEMETRY_SITE = 'not recorded';

/** The site a pair is stratified by: its production prediction's (the request's `site` parameter). */
export const pairSite = (p: ShadowPair): string => p.production.site ?? TELEMETRY_SITE;

/** Why a measurement of the simulated shadow has no counterpart here. */
export const TELEMETRY_NOT_MEASURED: NonNullable<ShadowMeasurement['notMeasured']> = {
  drift:
    'the window has no input sketches of the model (a gateway without them, or VIGIL_GATEWAY_SKETCH_BUCKET_MS=0), so input drift against the locked validation reference cannot be measured',
  missing: 'without input sketches, gateway telemetry flags missing inputs per request (inputQuality), not per feature',
};

export interface ShadowTelemetryMeasurement {
  /** `disagreements.sample` is null: the activity stores the sample and sets it. */
  measurement: ShadowMeasurement;
  agreementTable: AgreementCounts;
  pairing: Omit<ShadowPairing, 'pairs'> & { distinctCases: number; labelledPairs: number };
  /** The sampled disagreements, stratum by stratum. */
  sample: ShadowPair[];
}

/**
 * The shadow measurement from the pairs: what the simulated shadow measures, from the gateway's predictions —
 * agreement and κ at the threshold, correlation, mean absolute score difference, both models' operating-point
 * counts on the pairs whose case has an outcome, the gateway's latency of each side, input quality flags, mirror
 * coverage and the disagreement sample. Input drift is not measured (see TELEMETRY_NOT_MEASURED). A pair whose
 * score is not a finite number is left out and counted (`invalidScores`).
 */
export function measureShadowTelemetry(
  events: readonly TelemetryEvent[],
  q: ShadowTelemetryQuery,
): ShadowTelemetryMeasurement {
  const pairing = pairShadowPredictions(events, q);
  const valid = pairing.pairs.filter((p) => Number.isFinite(p.production.score) && Number.isFinite(p.shadow.score));
  const asOf = q.asOf === undefined ? Infinity : Date.parse(q.asOf);
  const truth = caseLabels(events, q.model, q.weights ?? DEFAULT_SOURCE_WEIGHTS, asOf);
  // Strata: site (the request's, where it named one) × direction, as for simulated cases.
  const compared = compareShadow(
    valid.map((p) => ({
      candidate: p.shadow.score,
      production: p.production.score,
      label: truth.get(p.caseIdHash)?.label ?? -1,
      site: pairSite(p),
      key: `${p.caseIdHash}|${p.at}|${p.production.eventId}`,
      pair: p,
    })),
    { threshold: q.threshold, sites: [...new Set(valid.map(pairSite))].sort(), sampleSize: q.sampleSize, seed: q.seed },
  );
  const { counts } = compared;
  const flags: Record<string, number> = {};
  for (const p of valid) for (const f of p.production.quality) flags[f] = (flags[f] ?? 0) + 1;
  const { pairs: _pairs, ...summary } = pairing;
  const measurement: ShadowMeasurement = {
    ...comparedMeasurement(compared),
    // As the gateway measured them: production = the request's handling time, shadow = the mirror's scoring call.
    latencyMs: {
      candidate: latencySummary(valid.map((p) => p.shadow.latencyMs).filter(Number.isFinite), 1),
      production: latencySummary(valid.map((p) => p.production.latencyMs).filter(Number.isFinite), 1),
    },
    disagreements: {
      candidateOnly: counts.candidateOnly,
      productionOnly: counts.productionOnly,
      sampled: compared.sample.length,
      sample: null,
      strata: compared.strata,
    },
    mirror: {
      production: pairing.production,
      paired: pairing.pairs.length,
      unpaired: pairing.unpaired,
      coverage: pairing.production > 0 ? pairing.pairs.length / pairing.production : null,
      orphanShadow: pairing.orphanShadow,
      invalidScores: pairing.pairs.length - valid.length,
      failed: pairing.failures.shadow,
    },
    inputQuality: { requests: valid.length, flags },
    // Failure events: a failed mirror is the candidate's error, a production request without an answer the incumbent's (it was never mirrored).
    errors: {
      candidate: pairing.failures.shadow,
      production: pairing.failures.production,
      cases: pairing.failures.shadow + pairing.failures.production,
    },
    notMeasured: { ...TELEMETRY_NOT_MEASURED },
  };
  return {
    measurement,
    agreementTable: counts,
    pairing: {
      ...summary,
      distinctCases: new Set(valid.map((p) => p.caseIdHash)).size,
      labelledPairs: valid.filter((p) => truth.has(p.caseIdHash)).length,
    },
    sample: compared.sample.map((s) => s.item.pair),
  };
}
