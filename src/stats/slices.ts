import { StatsInputError } from './errors';

/** A declared attribute column as dense level codes (levels sorted, so slice order is deterministic). */
export interface EncodedAttribute {
  name: string;
  levels: string[];
  /** Level code per row (a narrower array when the levels allow). */
  codes: Uint8Array | Uint16Array | Uint32Array;
}

export function encodeAttribute(name: string, values: ArrayLike<string>, rows: number): EncodedAttribute {
  if (values.length !== rows)
    throw new StatsInputError(`attribute ${name} has ${values.length} rows but labels has ${rows}`, name);
  const seen = new Map<string, number>();
  const raw = new Uint32Array(rows);
  let last: string | undefined;
  let lastCode = 0;
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (v !== last) {
      if (typeof v !== 'string' || v.length === 0) {
        throw new StatsInputError(
          `attribute ${name}: row ${i} must be a non-empty string, got ${JSON.stringify(v)}`,
          name,
          i,
        );
      }
      let code = seen.get(v);
      if (code === undefined) {
        code = seen.size;
        seen.set(v, code);
      }
      last = v;
      lastCode = code;
    }
    raw[i] = lastCode;
  }
  const levels = [...seen.keys()].sort();
  const remap = new Uint32Array(levels.length);
  levels.forEach((level, sorted) => (remap[seen.get(level)!] = sorted));
  for (let i = 0; i < rows; i++) raw[i] = remap[raw[i]!]!;
  return { name, levels, codes: raw };
}

export interface SliceDefinition {
  /** "overall", or "site=site-a & sex=F" in the order of the attributes. */
  id: string;
  attributes: string[];
  /** Level index into each attribute's `levels`, aligned with `attributes`. */
  levelCodes: number[];
}

export const OVERALL: SliceDefinition = { id: 'overall', attributes: [], levelCodes: [] };

/** Every combination of observed levels of the given attributes (empty intersections included: they report n = 0). */
export function crossSlices(attributes: EncodedAttribute[]): SliceDefinition[] {
  let combos: number[][] = [[]];
  for (const attr of attributes) combos = combos.flatMap((c) => attr.levels.map((_, l) => [...c, l]));
  return combos.map((levelCodes) => ({
    id: levelCodes.map((l, k) => `${attributes[k]!.name}=${attributes[k]!.levels[l]}`).join(' & '),
    attributes: attributes.map((a) => a.name),
    levelCodes,
  }));
}

/** Every non-empty subset of the attributes, crossed: each level of each attribute and all their intersections. */
export function crossSlicesWithSubsets(attributes: EncodedAttribute[]): SliceDefinition[] {
  const out: SliceDefinition[] = [];
  for (let mask = 1; mask < 1 << attributes.length; mask++) {
    out.push(...crossSlices(attributes.filter((_, k) => mask & (1 << k))));
  }
  return out;
}

/** Rows of `order[0..len)` that belong to the slice, keeping their order. Returns the count written to `out`. */
export function filterSlice(
  slice: SliceDefinition,
  byName: ReadonlyMap<string, EncodedAttribute>,
  order: Uint32Array,
  len: number,
  out: Uint32Array,
): number {
  const columns = slice.attributes.map((name) => byName.get(name)!.codes);
  const wanted = slice.levelCodes;
  let count = 0;
  if (columns.length === 1) {
    const c0 = columns[0]!;
    const w0 = wanted[0]!;
    for (let k = 0; k < len; k++) {
      const row = order[k]!;
      if (c0[row] === w0) out[count++] = row;
    }
    return count;
  }
  outer: for (let k = 0; k < len; k++) {
    const row = order[k]!;
    for (let a = 0; a < columns.length; a++) if (columns[a]![row] !== wanted[a]) continue outer;
    out[count++] = row;
  }
  return count;
}
