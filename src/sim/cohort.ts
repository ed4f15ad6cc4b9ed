/**
 * A synthetic multi-site cohort: eight standardised features per case, a site-dependent shift,
 * and a label drawn from a known logistic ground truth. Used for the bundled demo data and as
 * the simulated live traffic of the shadow, canary and monitoring stages.
 */
import { gaussian, prng } from './prng';

export const SITES = ['site-a', 'site-b', 'site-c', 'site-d'] as const;
export const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'] as const;

/** The ground truth the simulated world draws outcomes from. */
export const TRUE_WEIGHTS = [1.1, -0.8, 0.7, 0.5, -0.4, 0.3, 0.2, 0.0];
export const TRUE_BIAS = -1.9;
const SITE_SHIFT: Record<string, number> = { 'site-a': 0, 'site-b': 0.15, 'site-c': -0.1, 'site-d': 0.25 };

export interface SimCase {
  caseId: string;
  site: string;
  features: number[];
  label: 0 | 1;
}

export function generateCohort(seed: string, n: number): SimCase[] {
  const rand = prng(seed);
  const cases: SimCase[] = [];
  for (let i = 0; i < n; i++) {
    const site = SITES[Math.floor(rand() * SITES.length)]!;
    const shift = SITE_SHIFT[site]!;
    const features = FEATURES.map(() => gaussian(rand) + shift);
    let logit = TRUE_BIAS;
    for (let k = 0; k < features.length; k++) logit += TRUE_WEIGHTS[k]! * features[k]!;
    const label = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    cases.push({ caseId: `${seed}:${i}`, site, features, label });
  }
  return cases;
}

export function cohortToCsv(cases: SimCase[]): string {
  const header = ['case_id', 'site', ...FEATURES, 'label'].join(',');
  const rows = cases.map((c) => [c.caseId, c.site, ...c.features.map((f) => f.toFixed(6)), c.label].join(','));
  return `${header}\n${rows.join('\n')}\n`;
}
