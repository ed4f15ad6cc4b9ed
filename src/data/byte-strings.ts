/**
 * Interned byte strings: each distinct value stored once (UTF-8 bytes in one arena), found again by an
 * open-addressing hash table. Readers intern case ids, patient ids and slice values straight from the file's
 * bytes, so a column of a million rows holds codes, not a million strings; joins compare bytes.
 *
 * While values arrive in strictly ascending byte order (ids exported sorted, the usual case) each new value
 * is known to be distinct by one comparison with the previous one, so no hash table is built; the first value
 * out of order (or the first lookup) builds it. Results are the same either way; only the cost differs.
 */
const EMPTY = 0;

function fnv1a(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

const decoder = new TextDecoder();

/** A ByteStrings as plain data (see `toParts`). */
export interface ByteStringsParts {
  arena: Uint8Array;
  arenaLength: number;
  offsets: Uint32Array;
  /** Every value's hash, when known. */
  hashes: Uint32Array | null;
  ascending: boolean;
  size: number;
}

export class ByteStrings {
  private arena: Uint8Array;
  private arenaLength = 0;
  private offsets: Uint32Array;
  /** Hash of each value; filled only once the index exists. */
  private hashes: Uint32Array;
  /** Slot pairs [hash | 0, id + 1] (id + 1 = 0: empty): one cache line per probe. Empty until indexed. */
  private table = new Int32Array(0);
  private mask = -1;
  private indexed = false;
  /** `hashes` holds every value's hash (kept when the table is dropped). */
  private hashed = false;
  /** Every value so far came in strictly ascending order and no table was ever built. */
  private ascending = true;
  /** Number of distinct values; ids are 0 … size − 1 in order of first sight. */
  size = 0;
  /** Set by `intern`: whether the last value was new. */
  lastWasNew = false;

  constructor(expected = 16) {
    const cap = Math.max(16, expected);
    this.arena = new Uint8Array(cap * 16);
    this.offsets = new Uint32Array(cap + 1);
    this.hashes = new Uint32Array(0);
  }

  /** Id of the bytes `buf[s, e)`, adding them when new (`lastWasNew` tells which). */
  intern(buf: Uint8Array, s: number, e: number): number {
    if (!this.indexed) {
      if (this.ascending && this.followsLast(buf, s, e)) {
        this.lastWasNew = true;
        return this.add(buf, s, e, 0);
      }
      this.buildIndex();
    }
    const h = fnv1a(buf, s, e);
    const found = this.lookup(buf, s, e, h);
    if (found >= 0) {
      this.lastWasNew = false;
      return found;
    }
    this.lastWasNew = true;
    return this.add(buf, s, e, h);
  }

  /**
   * Frees the hash table (the values stay): for a set that is only read by id from now on, such as a
   * prediction file's ids once they are known to be distinct. `find` and `intern` rebuild it if called after.
   */
  dropIndex(): void {
    this.table = new Int32Array(0);
    this.mask = -1;
    // the hashes stay (a join reuses them); adding more values would rebuild the table
    this.hashed = this.indexed;
    this.indexed = false;
  }

  /** Gives back the spare capacity of the value store once no more values will be added. */
  compact(): void {
    if (this.arena.length > this.arenaLength) this.arena = this.arena.slice(0, this.arenaLength);
    if (this.offsets.length > this.size + 1) this.offsets = this.offsets.slice(0, this.size + 1);
    if (this.hashes.length > this.size) this.hashes = this.hashes.slice(0, this.size);
  }

  /**
   * The values as plain data for another thread (`postMessage`, the buffers transferable); `fromParts` rebuilds
   * an equal set there. The hash table is not sent: the receiver builds it if it is ever looked up.
   */
  toParts(): ByteStringsParts {
    return {
      arena: this.arena,
      arenaLength: this.arenaLength,
      offsets: this.offsets,
      hashes: this.indexed || this.hashed ? this.hashes : null,
      ascending: this.ascending,
      size: this.size,
    };
  }

  /** The set `toParts` described (its buffers are taken over, not copied). */
  static fromParts(p: ByteStringsParts): ByteStrings {
    const set = new ByteStrings(0);
    set.arena = p.arena;
    set.arenaLength = p.arenaLength;
    set.offsets = p.offsets;
    set.size = p.size;
    set.ascending = p.ascending;
    if (p.hashes) {
      set.hashes = p.hashes;
      set.hashed = true;
    }
    return set;
  }

  /** Id of the bytes `buf[s, e)`, or -1. */
  find(buf: Uint8Array, s: number, e: number): number {
    if (!this.indexed) this.buildIndex();
    return this.lookup(buf, s, e, fnv1a(buf, s, e));
  }

  /** Id of a string (UTF-8), or -1. */
  findText(text: string): number {
    const b = Buffer.from(text, 'utf8');
    return this.find(b, 0, b.length);
  }

  internText(text: string): number {
    const b = Buffer.from(text, 'utf8');
    return this.intern(b, 0, b.length);
  }

  /** The value of `id` as a string. */
  text(id: number): string {
    return decoder.decode(this.arena.subarray(this.offsets[id]!, this.offsets[id + 1]!));
  }

  /** Every value, by id. */
  texts(): string[] {
    const out = new Array<string>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.text(i);
    return out;
  }

  /** Id in `other` of this set's value `id`, or -1: a join without strings. */
  findIn(other: ByteStrings, id: number): number {
    const s = this.offsets[id]!;
    const e = this.offsets[id + 1]!;
    if (!other.indexed) other.buildIndex();
    // both sets hash alike, so a stored hash is reused
    return other.lookup(this.arena, s, e, this.indexed || this.hashed ? this.hashes[id]! : fnv1a(this.arena, s, e));
  }

  /** Whether this set's value `id` equals `other`'s value `otherId` (a merge join's step, no hashing). */
  sameAs(id: number, other: ByteStrings, otherId: number): boolean {
    const s = this.offsets[id]!;
    const len = this.offsets[id + 1]! - s;
    const o = other.offsets[otherId]!;
    if (other.offsets[otherId + 1]! - o !== len) return false;
    const a = this.arena;
    const b = other.arena;
    for (let k = 0; k < len; k++) if (a[s + k] !== b[o + k]) return false;
    return true;
  }

  /** `buf[s, e)` sorts strictly after the last value added (byte order), so it cannot be a repeat. */
  private followsLast(buf: Uint8Array, s: number, e: number): boolean {
    if (this.size === 0) return true;
    const arena = this.arena;
    const o = this.offsets[this.size - 1]!;
    const oe = this.offsets[this.size]!;
    const n = Math.min(e - s, oe - o);
    for (let k = 0; k < n; k++) {
      const d = buf[s + k]! - arena[o + k]!;
      if (d !== 0) return d > 0;
    }
    return e - s > oe - o;
  }

  private lookup(buf: Uint8Array, s: number, e: number, h: number): number {
    const { table, mask, arena, offsets } = this;
    const len = e - s;
    const hv = h | 0;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = table[2 * slot + 1]!;
      if (v === EMPTY) return -1;
      if (table[2 * slot] !== hv) continue;
      const id = v - 1;
      const o = offsets[id]!;
      if (offsets[id + 1]! - o !== len) continue;
      let k = 0;
      while (k < len && arena[o + k] === buf[s + k]) k++;
      if (k === len) return id;
    }
  }

  private add(buf: Uint8Array, s: number, e: number, h: number): number {
    const id = this.size;
    if (id + 1 >= this.offsets.length) {
      const offsets = new Uint32Array(Math.ceil(this.offsets.length * 1.5));
      offsets.set(this.offsets);
      this.offsets = offsets;
    }
    const len = e - s;
    if (this.arenaLength + len > this.arena.length) {
      const arena = new Uint8Array(Math.max(Math.ceil(this.arena.length * 1.5), this.arenaLength + len));
      arena.set(this.arena.subarray(0, this.arenaLength));
      this.arena = arena;
    }
    // a short id is copied byte by byte: cheaper than a subarray object per row
    const arena = this.arena;
    const at = this.arenaLength;
    if (len <= 64) for (let k = 0; k < len; k++) arena[at + k] = buf[s + k]!;
    else arena.set(buf.subarray(s, e), at);
    this.arenaLength += len;
    this.offsets[id + 1] = this.arenaLength;
    this.size++;
    if (!this.indexed) {
      this.hashed = false; // the new value has no hash yet
      return id;
    }
    if (id >= this.hashes.length) {
      const hashes = new Uint32Array(Math.max(16, Math.ceil(this.hashes.length * 1.5)));
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.hashes[id] = h;
    if (this.size * 4 > (this.mask + 1) * 3)
      this.rehash(this.table.length); // load ≤ 0.75
    else this.place(id, h);
    return id;
  }

  private place(id: number, h: number): void {
    const table = this.table;
    let slot = h & this.mask;
    while (table[2 * slot + 1] !== EMPTY) slot = (slot + 1) & this.mask;
    table[2 * slot] = h | 0;
    table[2 * slot + 1] = id + 1;
  }

  /** Hashes every value and builds the table (values so far are distinct). */
  private buildIndex(): void {
    if (!this.hashed) {
      const hashes = new Uint32Array(Math.max(16, this.offsets.length - 1));
      for (let id = 0; id < this.size; id++) hashes[id] = fnv1a(this.arena, this.offsets[id]!, this.offsets[id + 1]!);
      this.hashes = hashes;
    }
    this.hashed = false;
    this.indexed = true;
    this.ascending = false; // from now on values may come in any order: the table decides
    let slots = 32;
    while (slots * 3 < Math.max(this.size + 1, this.hashes.length) * 4) slots *= 2;
    this.rehash(slots);
  }

  private rehash(slots: number): void {
    this.table = new Int32Array(2 * slots);
    this.mask = slots - 1;
    for (let id = 0; id < this.size; id++) this.place(id, this.hashes[id]!);
  }
}
