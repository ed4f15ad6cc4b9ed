/**
 * A synthetic multi-site cohort: eight standardised features per case, a site-dependent shift,
 * and a label drawn from a known logistic ground truth. Used for the bundled demo data and as
 * the simulated live traffic of the shadow, canary and monitoring stages.
 */
import type { SimCase } from '../contracts/traffic';
import { hashPatientId } from '../leakage';
import { gaussian, prng } from './prng';

export const SITES = ['site-a', 'site-b', 'site-c', 'site-d'] as const;
/** Declared slice attributes of every case, besides the site. */
export const SEXES = ['F', 'M'] as const;
export const AGE_BANDS = ['18-64', '65+'] as const;
export const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'] as const;

/** The ground truth the simulated world draws outcomes from. */
export const TRUE_WEIGHTS = [1.1, -0.8, 0.7, 0.5, -0.4, 0.3, 0.2, 0.6];
export const TRUE_BIAS = -1.9;
const SITE_SHIFT: Record<string, number> = { 'site-a': 0, 'site-b': 0.15, 'site-c': -0.1, 'site-d': 0.25 };

/**
 * Key of the keyed hash that pseudonymises the simulated patient ids. Fixed and public: it only keeps raw
 * ids out of files and evidence; real sites hash with their own secret key before data reaches Vigil.
 */
export const DEMO_PATIENT_ID_KEY = 'vigil-demo-patient-id-key/v1';

export function generateCohort(seed: string, n: number): SimCase[] {
  const rand = prng(seed);
  const cases: SimCase[] = [];
  for (let i = 0; i < n; i++) {
    const site = SITES[Math.floor(rand() * SITES.length)]!;
    const sex = SEXES[rand() < 0.5 ? 0 : 1]!;
    const ageBand = AGE_BANDS[rand() < 0.45 ? 0 : 1]!;
    const shift = SITE_SHIFT[site]!;
    const latent = FEATURES.map(() => gaussian(rand) + shift);
    let logit = TRUE_BIAS;
    for (let k = 0; k < latent.length; k++) logit += TRUE_WEIGHTS[k]! * latent[k]!;
    const label = rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    // Site C does not record x7 (a lactate trend): it arrives imputed as 0. A model that learned to
    // lean on x7 elsewhere ranks better overall and misses more of site C's patients.
    const features = latent.map((v, k) => (k === 7 && site === 'site-c' ? 0 : v));
    cases.push({
      caseId: `${seed}:${i}`,
      patientId: hashPatientId(`${seed}:patient:${i}`, DEMO_PATIENT_ID_KEY),
      site,
      sex,
      ageBand,
      features,
      label,
    });
  }
  return cases;
}

export function cohortToCsv(cases: SimCase[]): string {
  const header = ['case_id', 'patient_id', 'site', 'sex', 'age_band', ...FEATURES, 'label'].join(',');
  const rows = cases.map((c) =>
    [c.caseId, c.patientId, c.site, c.sex, c.ageBand, ...c.features.map((f) => f.toFixed(6)), c.label].join(','),
  );
  return `${header}\n${rows.join('\n')}\n`;
}
