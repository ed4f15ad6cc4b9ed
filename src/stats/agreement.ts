/**
 * Shadow agreement at the operating threshold: how often candidate and production make the same call, Cohen's
 * κ of the two calls (./kappa), and the correlation of their scores.
 */
import { cohensKappaFromTable, KappaError } from './kappa';
import { StatsInputError } from './errors';
import { finiteColumn } from './validate';

export interface AgreementCounts {
  /** Both models alert. */
  both: number;
  candidateOnly: number;
  productionOnly: number;
  /** Neither alerts. */
  neither: number;
}

export interface ShadowAgreement {
  cases: number;
  agreement: number;
  /** Cohen's κ; null when undefined (both models made the same single call on every case). */
  kappa: number | null;
  kappaStandardError: number | null;
  expectedAgreement: number | null;
}

/** Agreement rate and Cohen's κ of candidate vs production alerts (rows: candidate, columns: production). */
export function shadowAgreement(c: AgreementCounts): ShadowAgreement {
  const table = [
    [c.both, c.candidateOnly],
    [c.productionOnly, c.neither],
  ];
  const cases = c.both + c.candidateOnly + c.productionOnly + c.neither;
  if (!(cases > 0)) throw new StatsInputError('no shadow cases', 'cases');
  try {
    const k = cohensKappaFromTable(table);
    return {
      cases,
      agreement: k.observedAgreement,
      kappa: k.kappa,
      kappaStandardError: k.standardError,
      expectedAgreement: k.expectedAgreement,
    };
  } catch (err) {
    if (err instanceof KappaError && /undefined/.test(err.message)) {
      return {
        cases,
        agreement: (c.both + c.neither) / cases,
        kappa: null,
        kappaStandardError: null,
        expectedAgreement: 1,
      };
    }
    throw new StatsInputError(err instanceof Error ? err.message : String(err), 'counts');
  }
}

/** Agreement counts from the two models' scores at one operating threshold (alert = score ≥ threshold). */
export function agreementAtThreshold(
  candidate: readonly number[],
  production: readonly number[],
  threshold: number,
): AgreementCounts {
  if (candidate.length !== production.length)
    throw new StatsInputError(`candidate has ${candidate.length} scores, production ${production.length}`, 'scores');
  const out: AgreementCounts = { both: 0, candidateOnly: 0, productionOnly: 0, neither: 0 };
  candidate.forEach((s, i) => {
    const p = production[i]!;
    if (!Number.isFinite(s) || !Number.isFinite(p)) throw new StatsInputError('scores must be finite', 'scores', i);
    const a = s >= threshold;
    const b = p >= threshold;
    if (a && b) out.both++;
    else if (a) out.candidateOnly++;
    else if (b) out.productionOnly++;
    else out.neither++;
  });
  return out;
}

/** Pearson correlation of the two models' scores (null when either is constant). */
export function scoreCorrelation(candidate: readonly number[], production: readonly number[]): number | null {
  const n = candidate.length;
  if (n !== production.length || n < 2)
    throw new StatsInputError('score correlation needs two equal-length samples of ≥ 2', 'scores');
  finiteColumn(candidate, 'candidate');
  finiteColumn(production, 'production');
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += candidate[i]!;
    mb += production[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = candidate[i]! - ma;
    const db = production[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return null;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}
