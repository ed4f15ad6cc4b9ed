/**
 * Checks of the validation design the policy declares: temporal (every evaluation row dated after the latest row of
 * the splits that informed the model) and site held-out (no evaluation site seen in training).
 */
import { LeakageInputError, type LeakageFinding } from './checks';

/** Milliseconds of an ISO 8601 date or date-time; anything else is an error naming the row. */
function parseDate(text: string, split: string, row: number): number {
  const t = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  if (!Number.isFinite(t))
    throw new LeakageInputError(`${split} row ${row + 1}: "${text}" is not an ISO 8601 date (YYYY-MM-DD[Thh:mm…])`);
  return t;
}

/** Evaluation rows dated on or before the latest training row. */
export function temporalOrder(
  training: readonly string[],
  evaluation: readonly string[],
  column: string,
  split = 'training',
): LeakageFinding[] {
  let latest = -Infinity;
  let latestText = '';
  training.forEach((d, i) => {
    const t = parseDate(d, split, i);
    if (t > latest) [latest, latestText] = [t, d.trim()];
  });
  let count = 0;
  let earliest = Infinity;
  let earliestText = '';
  evaluation.forEach((d, i) => {
    const t = parseDate(d, 'evaluation', i);
    if (t <= latest) count++;
    if (t < earliest) [earliest, earliestText] = [t, d.trim()];
  });
  if (count === 0) return [];
  return [
    {
      check: 'temporal-order',
      count,
      reason: `${count} evaluation row(s) are dated (${column}) on or before the latest ${split} row ${latestText} (earliest evaluation date ${earliestText}); a temporal validation evaluates only cases after the training period.`,
    },
  ];
}

/** Sites present in both splits when the evaluation must come from held-out sites. */
export function siteHeldOut(
  training: readonly string[],
  evaluation: readonly string[],
  column: string,
  split = 'training',
): LeakageFinding[] {
  const seen = new Set(training.map((s) => s.trim()));
  const shared = [...new Set(evaluation.map((s) => s.trim()))].filter((s) => seen.has(s)).sort();
  if (shared.length === 0) return [];
  const rows = evaluation.filter((s) => seen.has(s.trim())).length;
  return [
    {
      check: 'site-held-out',
      count: rows,
      reason: `${shared.length} evaluation site(s) (${column}: ${shared.join(', ')}) also appear in the ${split} split (${rows} evaluation rows); a site held-out validation evaluates only sites the model never saw.`,
    },
  ];
}
