/**
 * Both arms of a live interval counted per cohort ("<attribute>=<level>"), for the guardrails per clinical cohort
 * (src/judging/cohort-guardrails.ts). One function for `vigil simulate`, the bench and the simulated live source,
 * so the three count the same way.
 */
import type { CohortArms } from '../domain';
import type { SimCase } from '../contracts/traffic';
import { armStats } from '../stats';

/** The request attribute a simulated case carries, by the attribute's name as policies and the gateway spell it. */
export function caseAttribute(c: SimCase, attribute: string): string | undefined {
  if (attribute === 'site') return c.site;
  if (attribute === 'sex') return c.sex;
  if (attribute === 'age_band') return c.ageBand;
  return undefined;
}

/**
 * Per-cohort arm statistics. `treated` / `control` are indices into `cases` (the arms), scored by `treatedScores` /
 * `controlScores`; `labels` are the observed labels (-1 = outcome not arrived). A case without the attribute counts
 * under "<attribute>=(none)". A cohort present in only one arm gets an empty other arm.
 */
export function cohortArms(
  cases: readonly SimCase[],
  attributes: readonly string[],
  arms: { treated: readonly number[]; control: readonly number[] },
  scores: { treated: ArrayLike<number>; control: ArrayLike<number> },
  labels: ArrayLike<number>,
  threshold: number,
): Record<string, CohortArms> {
  const out: Record<string, CohortArms> = {};
  for (const attribute of attributes) {
    const groups = new Map<string, { treated: number[]; control: number[] }>();
    const put = (k: number, arm: 'treated' | 'control') => {
      const key = `${attribute}=${caseAttribute(cases[k]!, attribute) ?? '(none)'}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { treated: [], control: [] }));
      g[arm].push(k);
    };
    for (const k of arms.treated) put(k, 'treated');
    for (const k of arms.control) put(k, 'control');
    const stats = (idx: number[], s: ArrayLike<number>) =>
      armStats(
        idx.map((k) => s[k]!),
        idx.map((k) => labels[k]!),
        threshold,
      );
    for (const key of [...groups.keys()].sort()) {
      const g = groups.get(key)!;
      out[key] = { treatment: stats(g.treated, scores.treated), comparator: stats(g.control, scores.control) };
    }
  }
  return out;
}
