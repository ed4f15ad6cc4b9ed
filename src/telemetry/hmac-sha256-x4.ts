/**
 * HMAC-SHA256 of four short messages at once: a WebAssembly SIMD function (generated here, byte by byte, at load;
 * no toolchain) runs the inner and the outer SHA-256 compression of four messages in the four 32-bit lanes of
 * 128-bit vectors, from the key's pad blocks compressed once (as `HmacSha256`). The gateway's encoder thread hashes
 * every row's case id (1,000 per batch request) with it; a message of more than 55 UTF-8 bytes, or not ASCII, goes
 * through `HmacSha256` instead. Equal to `createHmac('sha256', key)` (test/unit/hmac-sha256.test.ts).
 */
import { HmacSha256 } from './hmac-sha256';

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

/** Memory layout (bytes): the four message blocks, lane-interleaved (word t of lane l at 16t + 4l). */
const BLOCK = 0;
/** The inner and outer midstates, each word splatted over the four lanes (8 vectors each). */
const MID_IN = 256;
const MID_OUT = 384;
/** The four digests, lane-interleaved like the blocks. */
const OUT = 512;

const SIMD = 0xfd;
const op = {
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  end: 0x0b,
  load: [SIMD, 0x00],
  store: [SIMD, 0x0b],
  const: [SIMD, 0x0c],
  and: [SIMD, 0x4e],
  or: [SIMD, 0x50],
  xor: [SIMD, 0x51],
  bitselect: [SIMD, 0x52],
  shl: [SIMD, 0xab, 0x01],
  shrU: [SIMD, 0xad, 0x01],
  add: [SIMD, 0xae, 0x01],
};

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

/** Appends WebAssembly instructions; locals are v128 (0–15 schedule window, 16–23 state, 24–25 temporaries). */
class Emitter {
  readonly code: number[] = [];
  get(l: number): void {
    this.code.push(op.localGet, l);
  }
  set(l: number): void {
    this.code.push(op.localSet, l);
  }
  i32(v: number): void {
    this.code.push(op.i32Const, ...sleb(v | 0));
  }
  ops(...o: number[][]): void {
    for (const x of o) this.code.push(...x);
  }
  splat(v: number): void {
    const b: number[] = [];
    for (let l = 0; l < 4; l++) b.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
    this.code.push(...op.const, ...b);
  }
  loadTo(addr: number, into: number): void {
    this.i32(addr);
    this.code.push(...op.load, 4, ...leb(0));
    this.set(into);
  }
  /** rotr(x, n) of a local, left on the stack. */
  rotr(x: number, n: number): void {
    this.get(x);
    this.i32(n);
    this.ops(op.shrU);
    this.get(x);
    this.i32(32 - n);
    this.ops(op.shl, op.or);
  }
  shr(x: number, n: number): void {
    this.get(x);
    this.i32(n);
    this.ops(op.shrU);
  }
  /** rotr(x, a) ^ rotr(x, b) ^ (c < 0 ? x >>> −c : rotr(x, c)) */
  sigma(x: number, a: number, b: number, c: number): void {
    this.rotr(x, a);
    this.rotr(x, b);
    this.ops(op.xor);
    if (c < 0) this.shr(x, -c);
    else this.rotr(x, c);
    this.ops(op.xor);
  }
}

const W = (t: number) => t % 16;
const T1 = 24;
const T2 = 25;

/** One SHA-256 round t over the state locals `s` (a..h), renamed instead of moved; the schedule word first. */
function emitRound(e: Emitter, s: number[], t: number): void {
  if (t >= 16) {
    // w[t] = σ1(w[t−2]) + w[t−7] + σ0(w[t−15]) + w[t−16]
    e.sigma(W(t - 2), 17, 19, -10);
    e.get(W(t - 7));
    e.ops(op.add);
    e.sigma(W(t - 15), 7, 18, -3);
    e.ops(op.add);
    e.get(W(t));
    e.ops(op.add);
    e.set(W(t));
  }
  const [a, b, c, d, f0, f, g, h] = s as [number, number, number, number, number, number, number, number];
  // t1 = h + Σ1(e) + Ch(e, f, g) + K[t] + w[t]; Ch = bitselect(f, g, e)
  e.get(h);
  e.sigma(f0, 6, 11, 25);
  e.ops(op.add);
  e.get(f);
  e.get(g);
  e.get(f0);
  e.ops(op.bitselect, op.add);
  e.splat(K[t]!);
  e.ops(op.add);
  e.get(W(t));
  e.ops(op.add);
  e.set(T1);
  // d += t1 (the new e)
  e.get(d);
  e.get(T1);
  e.ops(op.add);
  e.set(d);
  // t2 = Σ0(a) + Maj(a, b, c), Maj = bitselect(c, b, a ^ b); the new a = t1 + t2, kept in h's local
  e.sigma(a, 2, 13, 22);
  e.get(c);
  e.get(b);
  e.get(a);
  e.get(b);
  e.ops(op.xor, op.bitselect, op.add);
  e.set(T2);
  e.get(T1);
  e.get(T2);
  e.ops(op.add);
  e.set(h);
  s.unshift(s.pop()!);
}

/** A compression from the midstate at `mid` over the schedule locals; returns the locals holding the state. */
function emitCompress(e: Emitter, mid: number): number[] {
  const s = [16, 17, 18, 19, 20, 21, 22, 23];
  for (let i = 0; i < 8; i++) e.loadTo(mid + 16 * i, s[i]!);
  for (let t = 0; t < 64; t++) emitRound(e, s, t);
  // Feed-forward: state += midstate.
  for (let i = 0; i < 8; i++) {
    e.get(s[i]!);
    e.i32(mid + 16 * i);
    e.code.push(...op.load, 4, ...leb(0));
    e.ops(op.add);
    e.set(s[i]!);
  }
  return s;
}

/** The body of `hmac4()`: inner compression from MID_IN over BLOCK, outer from MID_OUT over the inner digest. */
function hmac4Body(): number[] {
  const e = new Emitter();
  for (let t = 0; t < 16; t++) e.loadTo(BLOCK + 16 * t, W(t));
  const inner = emitCompress(e, MID_IN);
  // The outer block: the inner digest, 0x80, zeros, and the bit length (64 + 32 bytes).
  for (let i = 0; i < 8; i++) {
    e.get(inner[i]!);
    e.set(W(i));
  }
  e.splat(0x80000000);
  e.set(W(8));
  for (let t = 9; t < 15; t++) {
    e.splat(0);
    e.set(W(t));
  }
  e.splat((64 + 32) * 8);
  e.set(W(15));
  const outer = emitCompress(e, MID_OUT);
  for (let i = 0; i < 8; i++) {
    e.i32(OUT + 16 * i);
    e.get(outer[i]!);
    e.code.push(...op.store, 4, ...leb(0));
  }
  e.code.push(op.end);
  return e.code;
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

function moduleBytes(): Uint8Array {
  const body = hmac4Body();
  const locals = [1, ...leb(26), 0x7b]; // 26 locals of type v128
  const func = [...locals, ...body];
  const name = [...'hmac4'].map((c) => c.charCodeAt(0));
  const mem = [...'memory'].map((c) => c.charCodeAt(0));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 0, 0]), // type 0: () -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0, 1]), // one memory, min 1 page
    ...section(7, [2, name.length, ...name, 0, 0, mem.length, ...mem, 2, 0]), // exports
    ...section(10, [1, ...leb(func.length), ...func]),
  ]);
}

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: Wasm }).WebAssembly;

let compiled: object | null | undefined;
/** The compiled module, or null where WebAssembly SIMD is not available (then every id goes the scalar way). */
function wasmModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(moduleBytes()) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Lowercase hex digit codes. */
const HEX_BYTES = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));

/** HMAC-SHA256 under one key, four messages per call; hex digests written into byte buffers. */
export class HmacSha256x4 {
  private readonly scalar: HmacSha256;
  private readonly hmac4: (() => void) | null = null;
  private readonly mem32: Int32Array | null = null;

  constructor(key: string) {
    this.scalar = new HmacSha256(key);
    const mod = wasmModule();
    if (!mod) return;
    const instance = new wasm!.Instance(mod);
    const memory = instance.exports.memory as { buffer: ArrayBuffer };
    this.hmac4 = instance.exports.hmac4 as () => void;
    this.mem32 = new Int32Array(memory.buffer);
    const mids = this.scalar.midstates();
    for (let i = 0; i < 8; i++)
      for (let l = 0; l < 4; l++) {
        this.mem32[(MID_IN >> 2) + 4 * i + l] = mids.inner[i]!;
        this.mem32[(MID_OUT >> 2) + 4 * i + l] = mids.outer[i]!;
      }
  }

  /**
   * The HMAC of each message `ids.slice(ends[k − 1] ?? 0, ends[k])`, k in [first, first + count), as 64 hex digits
   * written at `out[at[k]]`.
   */
  writeHexRange(ids: string, ends: Uint32Array, first: number, count: number, out: Uint8Array, at: Uint32Array): void {
    const m = this.mem32;
    const run = this.hmac4;
    let k = first;
    const last = first + count;
    if (m === null || run === null) {
      for (; k < last; k++) this.scalar.writeHex(ids, k === 0 ? 0 : ends[k - 1]!, ends[k]!, out, at[k]!);
      return;
    }
    const lanes = [0, 0, 0, 0];
    while (k < last) {
      // Up to four short ASCII messages into the lanes; anything else is hashed by the scalar path.
      let n = 0;
      while (n < 4 && k < last) {
        const start = k === 0 ? 0 : ends[k - 1]!;
        const end = ends[k]!;
        if (!this.fill(ids, start, end, n)) this.scalar.writeHex(ids, start, end, out, at[k]!);
        else lanes[n++] = k;
        k++;
      }
      if (n === 0) continue;
      run();
      for (let l = 0; l < n; l++) {
        const base = at[lanes[l]!]!;
        for (let i = 0; i < 8; i++) {
          const v = m[(OUT >> 2) + 4 * i + l]!;
          for (let j = 0; j < 8; j++) out[base + i * 8 + j] = HEX_BYTES[(v >>> (28 - 4 * j)) & 15]!;
        }
      }
    }
  }

  /** The padded block of a short ASCII message into lane `l`; false (nothing written) for any other message. */
  private fill(s: string, start: number, end: number, l: number): boolean {
    const n = end - start;
    if (n > 55) return false;
    const m = this.mem32!;
    for (let t = 0; t < 16; t++) m[4 * t + l] = 0;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(start + i);
      if (c > 0x7f) return false;
      m[4 * (i >> 2) + l] = m[4 * (i >> 2) + l]! | (c << (24 - 8 * (i & 3)));
    }
    m[4 * (n >> 2) + l] = m[4 * (n >> 2) + l]! | (0x80 << (24 - 8 * (n & 3)));
    m[4 * 15 + l] = (64 + n) * 8;
    return true;
  }
}
