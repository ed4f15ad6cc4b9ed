/**
 * Stable argsort of finite doubles, ascending, by LSD radix sort on the IEEE-754 bits (4 passes of 16 bits,
 * passes where every key shares the digit are skipped). ~10× faster than a comparator sort at 1M rows, which
 * is what lets one sort per model feed every metric and every slice.
 */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

export function argsortAscending(scores: Float64Array): Uint32Array {
  const n = scores.length;
  let idx = new Uint32Array(n);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  const words = new Uint32Array(scores.buffer, scores.byteOffset, n * 2);
  const loWord = LITTLE_ENDIAN ? 0 : 1;
  const hist = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    let l = words[2 * i + loWord]!;
    let h = words[2 * i + 1 - loWord]!;
    // order-preserving map from double to unsigned: negative → flip all bits, positive → flip the sign bit
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    idx[i] = i;
    lo[i] = l;
    hi[i] = h;
    hist[l & 0xffff]!++;
    hist[65536 + (l >>> 16)]!++;
    hist[131072 + (h & 0xffff)]!++;
    hist[196608 + (h >>> 16)]!++;
  }
  if (n < 2) return idx;
  let idx2 = new Uint32Array(n);
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    const word = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    if (hist[base + ((word[0]! >>> shift) & 0xffff)] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = hist[base + d]!;
      hist[base + d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const d = (word[i]! >>> shift) & 0xffff;
      const to = hist[base + d]!++;
      idx2[to] = idx[i]!;
      lo2[to] = lo[i]!;
      hi2[to] = hi[i]!;
    }
    [idx, idx2] = [idx2, idx];
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }
  return idx;
}
