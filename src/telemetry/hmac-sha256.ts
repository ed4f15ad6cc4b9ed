/**
 * HMAC-SHA256 of many short messages under one key, in plain JavaScript: the key's inner and outer pad blocks
 * are compressed once (RFC 2104's "precomputed" variant, §4), so a message of up to 55 bytes costs two SHA-256
 * compressions and no native call, object or buffer per message. The gateway hashes every row's case id with
 * it; `node:crypto` costs two one-shot hashes of four compressions plus a native call each per id (profiled:
 * ~46 % of the encoder thread at 1,000-row batches). Equal to `createHmac('sha256', key)` on every input
 * (test/unit/hmac-sha256.test.ts checks random and edge-length ids against node:crypto).
 */
import { hash } from 'node:crypto';

/** SHA-256 round constants (FIPS 180-4 §4.2.2). */
export const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** Lowercase hex of every byte value. */
const HEX: string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
/** ASCII codes of the hex digits 0–f. */
const HEX_BYTES = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));

/** One SHA-256 compression of `w[0..15]` (big-endian words) into `s` (8 words); `w` is overwritten. */
function compress(s: Int32Array, w: Int32Array): void {
  for (let t = 16; t < 64; t++) {
    const a = w[t - 15]!;
    const b = w[t - 2]!;
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  let d = s[3]!;
  let e = s[4]!;
  let f = s[5]!;
  let g = s[6]!;
  let h = s[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
  s[5] = (s[5]! + f) | 0;
  s[6] = (s[6]! + g) | 0;
  s[7] = (s[7]! + h) | 0;
}

/** Hex of a state's 8 words (big-endian), i.e. of the digest. */
function hexOf(s: Int32Array): string {
  let out = '';
  for (let i = 0; i < 8; i++) {
    const v = s[i]!;
    out += HEX[(v >>> 24) & 255]! + HEX[(v >>> 16) & 255]! + HEX[(v >>> 8) & 255]! + HEX[v & 255]!;
  }
  return out;
}

/** HMAC-SHA256 under one key, for many messages; hex digests, as `createHmac(...).digest('hex')`. */
export class HmacSha256 {
  private readonly innerMid = new Int32Array(8);
  private readonly outerMid = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly w = new Int32Array(64);
  /** The message's UTF-8 bytes (non-ASCII and long messages). */
  private bytes = new Uint8Array(256);

  constructor(key: string | Uint8Array) {
    const raw = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    // A key longer than the block is replaced by its digest (RFC 2104 §2); shorter ones are zero-padded.
    const k = raw.length > 64 ? hash('sha256', raw, 'buffer') : raw;
    for (const [mid, pad] of [
      [this.innerMid, 0x36],
      [this.outerMid, 0x5c],
    ] as const) {
      mid.set(IV);
      for (let i = 0; i < 16; i++) {
        let word = 0;
        for (let j = 0; j < 4; j++) word = (word << 8) | ((k[i * 4 + j] ?? 0) ^ pad);
        this.w[i] = word;
      }
      compress(mid, this.w);
    }
  }

  /** The key's inner and outer midstates (SHA-256 state after its pad block), for a vectorised implementation. */
  midstates(): { inner: Int32Array; outer: Int32Array } {
    return { inner: this.innerMid.slice(), outer: this.outerMid.slice() };
  }

  /** As `HmacSha256x4.writeHexRange`, one message at a time. */
  writeHexRange(ids: string, ends: Uint32Array, first: number, count: number, out: Uint8Array, at: Uint32Array): void {
    for (let k = first; k < first + count; k++) this.writeHex(ids, k === 0 ? 0 : ends[k - 1]!, ends[k]!, out, at[k]!);
  }

  /** HMAC of the UTF-8 encoding of `message`, lowercase hex. */
  hex(message: string): string {
    this.digest(message, 0, message.length);
    return hexOf(this.state);
  }

  /**
   * HMAC of `message.slice(start, end)` (UTF-8), written as 64 lowercase hex digits (ASCII bytes) into `out` at
   * `at`: no string is made (the gateway's case ids arrive joined in one string).
   */
  writeHex(message: string, start: number, end: number, out: Uint8Array, at: number): void {
    this.digest(message, start, end);
    const s = this.state;
    for (let i = 0; i < 8; i++) {
      const v = s[i]!;
      for (let j = 0; j < 8; j++) out[at + i * 8 + j] = HEX_BYTES[(v >>> (28 - 4 * j)) & 15]!;
    }
  }

  /** The HMAC of `message.slice(start, end)` into `this.state`. */
  private digest(message: string, start: number, end: number): void {
    const n = end - start;
    let ascii = n <= 55;
    for (let i = start; ascii && i < end; i++) if (message.charCodeAt(i) > 0x7f) ascii = false;
    const s = this.state;
    s.set(this.innerMid);
    if (ascii) {
      // One block: the message, 0x80, zeros, and the bit length of key block + message.
      const w = this.w;
      w.fill(0, 0, 16);
      for (let i = 0; i < n; i++) w[i >> 2] = w[i >> 2]! | (message.charCodeAt(start + i) << (24 - 8 * (i & 3)));
      w[n >> 2] = w[n >> 2]! | (0x80 << (24 - 8 * (n & 3)));
      w[15] = (64 + n) * 8;
      compress(s, w);
    } else {
      const text = start === 0 && end === message.length ? message : message.slice(start, end);
      const len = Buffer.byteLength(text, 'utf8');
      if (this.bytes.length < len + 72) this.bytes = new Uint8Array(2 * (len + 72));
      Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length).write(text, 0, 'utf8');
      this.innerBlocks(this.bytes, len);
    }
    this.outerBlock();
  }

  /** The inner hash over `len` bytes of `m` (room for padding after them), state already at the inner midstate. */
  private innerBlocks(m: Uint8Array, len: number): void {
    const total = len + 9 + ((64 - ((len + 9) % 64)) % 64);
    m[len] = 0x80;
    m.fill(0, len + 1, total);
    const bits = (64 + len) * 8;
    // Bit lengths beyond 2^32 cannot occur (messages are short); the high word stays zero.
    m[total - 4] = (bits >>> 24) & 255;
    m[total - 3] = (bits >>> 16) & 255;
    m[total - 2] = (bits >>> 8) & 255;
    m[total - 1] = bits & 255;
    const w = this.w;
    for (let off = 0; off < total; off += 64) {
      for (let i = 0; i < 16; i++) {
        const o = off + i * 4;
        w[i] = (m[o]! << 24) | (m[o + 1]! << 16) | (m[o + 2]! << 8) | m[o + 3]!;
      }
      compress(this.state, w);
    }
  }

  /** Outer hash over the inner digest (one block), into `this.state`. */
  private outerBlock(): void {
    const s = this.state;
    const w = this.w;
    for (let i = 0; i < 8; i++) w[i] = s[i]!;
    w[8] = 0x80000000;
    w.fill(0, 9, 15);
    w[15] = (64 + 32) * 8;
    s.set(this.outerMid);
    compress(s, w);
  }
}
