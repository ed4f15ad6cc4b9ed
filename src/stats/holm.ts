/**
 * Holm (1979) step-down adjusted p-values: sort ascending, p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)).
 * Rejecting where p̃ < α controls the family-wise error rate at α. Returned in the input order.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-value at ${i} must be in [0, 1], got ${p}`);
    return i;
  });
  order.sort((a, b) => pValues[a]! - pValues[b]!);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[i]!));
    adjusted[i] = running;
  });
  return adjusted;
}
