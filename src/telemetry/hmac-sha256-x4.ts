/**
 * HMAC-SHA256 of four short messages at once: a WebAssembly SIMD function (generated at load by
 * hmac-sha256-x4-module.ts; no toolchain) runs the inner and the outer SHA-256 compression of four messages in the
 * four 32-bit lanes of 128-bit vectors, from the key's pad blocks compressed once (as `HmacSha256`). The gateway's
 * encoder thread hashes every row's case id (1,000 per batch request) with it; a message of more than 55 UTF-8 bytes,
 * or not ASCII, goes through `HmacSha256` instead. Equal to `createHmac('sha256', key)` (test/unit/hmac-sha256.test.ts).
 *
 * The function does the byte work too, with vector operations: it pads each message's block from the ids' bytes
 * (copied into its memory once per batch) and writes each digest as 64 lowercase hex digits where it is told. Done
 * in JavaScript, byte by byte, those two steps took more time than the compressions.
 */
import { HmacSha256 } from './hmac-sha256';
import { DATA, HEX_TABLE, MID_IN, MID_OUT, PARAMS, SCRATCH, ZEROS, wasm, wasmModule } from './hmac-sha256-x4-module';

interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** HMAC-SHA256 under one key, four messages per call; hex digests written into byte buffers. */
export class HmacSha256x4 {
  private readonly scalar: HmacSha256;
  private readonly hmac4: (() => void) | null = null;
  private readonly memory: WasmMemory | null = null;
  private mem32 = new Int32Array(0);
  private mem8 = Buffer.alloc(0);

  constructor(key: string) {
    this.scalar = new HmacSha256(key);
    const mod = wasmModule();
    if (!mod) return;
    const instance = new wasm!.Instance(mod);
    this.memory = instance.exports.memory as WasmMemory;
    this.hmac4 = instance.exports.hmac4 as () => void;
    this.views();
    const mids = this.scalar.midstates();
    for (let i = 0; i < 8; i++)
      for (let l = 0; l < 4; l++) {
        this.mem32[(MID_IN >> 2) + 4 * i + l] = mids.inner[i]!;
        this.mem32[(MID_OUT >> 2) + 4 * i + l] = mids.outer[i]!;
      }
    this.mem8.write('0123456789abcdef', HEX_TABLE, 'latin1');
  }

  /**
   * The HMAC of each message `ids.slice(ends[k − 1] ?? 0, ends[k])`, k in [first, first + count), as 64 hex digits
   * written at `out[at[k]]`.
   */
  writeHexRange(ids: string, ends: Uint32Array, first: number, count: number, out: Uint8Array, at: Uint32Array): void {
    if (this.hmac4 === null) return this.scalar.writeHexRange(ids, ends, first, count, out, at);
    const hex = this.hashInMemory(ids, ends, first, count, 0, 64);
    for (let k = 0; k < count; k++) this.mem8.copy(out, at[first + k]!, hex + 64 * k, hex + 64 * k + 64);
  }

  /** The HMACs of all `n` messages as JSON strings in a list's body, `"<hex>","<hex>",…` (67n − 1 bytes), at out[at]. */
  writeQuotedHexList(ids: string, ends: Uint32Array, n: number, out: Uint8Array, at: number): void {
    if (this.hmac4 === null) {
      for (let k = 0; k < n; k++) {
        const q = at + 67 * k;
        out[q] = out[q + 65] = 34; // "
        if (k < n - 1) out[q + 66] = 44; // ,
        this.scalar.writeHex(ids, k === 0 ? 0 : ends[k - 1]!, ends[k]!, out, q + 1);
      }
      return;
    }
    const list = this.hashInMemory(ids, ends, 0, n, 1, 67) - 1;
    const m = this.mem8;
    for (let k = 0; k < n; k++) {
      const q = list + 67 * k;
      m[q] = m[q + 65] = 34;
      m[q + 66] = 44;
    }
    m.copy(out, at, list, list + 67 * n - 1);
  }

  /**
   * Hashes messages first..first+count−1 into this instance's memory, message first + k's hex at
   * `base + lead + stride·k`; returns that address for k = 0. The ids' bytes are copied in once (Latin-1: one byte per
   * UTF-16 unit, so offsets in the string are offsets in memory); messages the vector path cannot take (more than 55
   * bytes, or not ASCII) are hashed by the scalar path into the same place.
   */
  private hashInMemory(ids: string, ends: Uint32Array, first: number, count: number, lead: number, stride: number) {
    const from = first === 0 ? 0 : ends[first - 1]!;
    const to = first + count === 0 ? 0 : ends[first + count - 1]!;
    // 64 bytes past the ids: the vector fill reads a whole block from each message's start.
    const hexBase = DATA + (to - from) + 64;
    const base = hexBase + lead;
    if (this.mem8.length < hexBase + stride * count + 64) this.grow(hexBase + stride * count + 64);
    const m = this.mem8;
    const p = this.mem32;
    m.write(ids.slice(from, to), DATA, 'latin1');
    const ascii = Buffer.byteLength(ids, 'utf8') === ids.length;
    const run = this.hmac4!;
    let lane = 0;
    for (let k = 0; k < count; k++) {
      const start = k + first === 0 ? 0 : ends[k + first - 1]!;
      const end = ends[k + first]!;
      const dest = base + stride * k;
      if (end - start > 55 || (!ascii && !isAscii(ids, start, end))) {
        this.scalar.writeHex(ids, start, end, m, dest);
        continue;
      }
      p[(PARAMS >> 2) + lane] = DATA + start - from;
      p[(PARAMS >> 2) + 4 + lane] = end - start;
      p[(PARAMS >> 2) + 8 + lane] = dest;
      if (++lane === 4) {
        run();
        lane = 0;
      }
    }
    if (lane > 0) {
      for (let l = lane; l < 4; l++) {
        p[(PARAMS >> 2) + l] = ZEROS;
        p[(PARAMS >> 2) + 4 + l] = 0;
        p[(PARAMS >> 2) + 8 + l] = SCRATCH;
      }
      run();
    }
    return base;
  }

  private grow(bytes: number): void {
    const pages = Math.ceil((bytes - this.memory!.buffer.byteLength) / 65536);
    this.memory!.grow(pages);
    this.views();
  }

  private views(): void {
    this.mem32 = new Int32Array(this.memory!.buffer);
    this.mem8 = Buffer.from(this.memory!.buffer);
  }
}

function isAscii(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
