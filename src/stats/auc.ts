/**
 * ROC AUC as the Mann-Whitney statistic with ties counted as one half, in O(n log n):
 * sort by score once, give tied runs their average rank. Returns null when a class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`scores (${n}) and labels (${labels.length}) differ in length`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new RangeError(`score at row ${i} is not finite: ${s}`);
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`label at row ${i} must be 0 or 1, got ${String(y)}`);
    order[i] = i;
  }
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSumPositives = 0;
  for (let start = 0; start < n;) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    const averageRank = (start + 1 + end) / 2; // ranks are 1-based
    for (let k = start; k < end; k++) {
      if (labels[order[k]!] === 1) {
        positives++;
        rankSumPositives += averageRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}
