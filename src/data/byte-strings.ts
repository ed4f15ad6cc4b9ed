/**
 * Interned byte strings: each distinct value stored once (UTF-8 bytes in one arena), found again by an
 * open-addressing hash table. Readers intern case ids, patient ids and slice values straight from the file's
 * bytes, so a column of a million rows holds codes, not a million strings; joins compare bytes.
 */
const EMPTY = 0;

function fnv1a(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

const decoder = new TextDecoder();

export class ByteStrings {
  private arena: Uint8Array;
  private arenaLength = 0;
  private offsets: Uint32Array;
  private hashes: Uint32Array;
  /** Slot → id + 1 (0 = empty). */
  private table: Int32Array;
  private mask: number;
  /** Number of distinct values; ids are 0 … size − 1 in order of first sight. */
  size = 0;
  /** Set by `intern`: whether the last value was new. */
  lastWasNew = false;

  constructor(expected = 16) {
    const cap = Math.max(16, expected);
    this.arena = new Uint8Array(cap * 12);
    this.offsets = new Uint32Array(cap + 1);
    this.hashes = new Uint32Array(cap);
    let slots = 32;
    while (slots * 3 < cap * 4) slots *= 2;
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Id of the bytes `buf[s, e)`, adding them when new (`lastWasNew` tells which). */
  intern(buf: Uint8Array, s: number, e: number): number {
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
   * prediction file's ids once they are known to be distinct. `find` and `intern` must not be called after.
   */
  dropIndex(): void {
    this.table = new Int32Array(0);
    this.mask = -1;
  }

  /** Gives back the spare capacity of the value store once no more values will be added. */
  compact(): void {
    if (this.arena.length > this.arenaLength) this.arena = this.arena.slice(0, this.arenaLength);
    if (this.offsets.length > this.size + 1) {
      this.offsets = this.offsets.slice(0, this.size + 1);
      this.hashes = this.hashes.slice(0, this.size);
    }
  }

  /** Id of the bytes `buf[s, e)`, or -1. */
  find(buf: Uint8Array, s: number, e: number): number {
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
    // both sets hash alike, so the stored hash is reused
    return other.lookup(this.arena, this.offsets[id]!, this.offsets[id + 1]!, this.hashes[id]!);
  }

  private lookup(buf: Uint8Array, s: number, e: number, h: number): number {
    const { table, mask, arena, offsets, hashes } = this;
    const len = e - s;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const v = table[slot]!;
      if (v === EMPTY) return -1;
      const id = v - 1;
      if (hashes[id] !== h) continue;
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
      const grow = Math.ceil(this.offsets.length * 1.5);
      const offsets = new Uint32Array(grow);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const hashes = new Uint32Array(grow);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    const len = e - s;
    if (this.arenaLength + len > this.arena.length) {
      const arena = new Uint8Array(Math.max(Math.ceil(this.arena.length * 1.5), this.arenaLength + len));
      arena.set(this.arena.subarray(0, this.arenaLength));
      this.arena = arena;
    }
    this.arena.set(buf.subarray(s, e), this.arenaLength);
    this.arenaLength += len;
    this.offsets[id + 1] = this.arenaLength;
    this.hashes[id] = h;
    this.size++;
    if (this.size * 4 > this.table.length * 3)
      this.rehash(); // load ≤ 0.75
    else this.place(id, h);
    return id;
  }

  private place(id: number, h: number): void {
    let slot = h & this.mask;
    while (this.table[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.table[slot] = id + 1;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2);
    this.mask = this.table.length - 1;
    for (let id = 0; id < this.size; id++) this.place(id, this.hashes[id]!);
  }
}
