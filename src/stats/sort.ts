/**
 * Stable argsort of finite doubles, ascending, by LSD radix sort on the IEEE-754 bits (4 passes of 16 bits,
 * passes where every key shares the digit are skipped). ~10× faster than a comparator sort at 1M rows, which
 * is what lets one sort per model feed every metric and every slice.
 */
const LITTLE_ENDIAN = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;

export function argsortAscending(scores: Float64Array): Uint32Array {
  const n = scores.length;
  const words = new Uint32Array(scores.buffer, scores.byteOffset, n * 2);
  const loWord = LITTLE_ENDIAN ? 0 : 1;
  // order-preserving map from double to unsigned: negative → flip all bits, positive → flip the sign bit
  const mappedHi = (h: number) => (h & 0x80000000 ? ~h >>> 0 : (h | 0x80000000) >>> 0);
  const mappedLo = (l: number, h: number) => (h & 0x80000000 ? ~l >>> 0 : l);
  let idx = new Uint32Array(n);
  let key = new Uint32Array(n);
  const hist = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const h0 = words[2 * i + 1 - loWord]!;
    const l = mappedLo(words[2 * i + loWord]!, h0);
    const h = mappedHi(h0);
    idx[i] = i;
    key[i] = l;
    hist[l & 0xffff]!++;
    hist[65536 + (l >>> 16)]!++;
    hist[131072 + (h & 0xffff)]!++;
    hist[196608 + (h >>> 16)]!++;
  }
  if (n < 2) return idx;
  // one key column at a time (the low word, then the high word gathered in the order reached): four columns
  // of n words instead of six, which matters when two threads sort 5M scores at once
  let idx2 = new Uint32Array(n);
  let key2 = new Uint32Array(n);
  for (let pass = 0; pass < 4; pass++) {
    if (pass === 2) for (let i = 0; i < n; i++) key[i] = mappedHi(words[2 * idx[i]! + 1 - loWord]!);
    const base = pass * 65536;
    const shift = pass % 2 === 0 ? 0 : 16;
    if (hist[base + ((key[0]! >>> shift) & 0xffff)] === n) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = hist[base + d]!;
      hist[base + d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = key[i]!;
      const to = hist[base + ((k >>> shift) & 0xffff)]!++;
      idx2[to] = idx[i]!;
      key2[to] = k;
    }
    [idx, idx2] = [idx2, idx];
    [key, key2] = [key2, key];
  }
  return idx;
}
