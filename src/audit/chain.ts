/**
 * Evidence-chain verification: re-read every chain entry and every artifact it names (and every
 * artifact those JSON artifacts reference), re-hash them, and check sequence and links. Every
 * problem is reported with the key concerned; nothing stops at the first.
 */
import { chainKey } from '../contracts/evidence-keys';
import { ChainEntrySchema, isTerminal, type ChainEntry, type ChainHead, type EvidenceRef, type Stage } from '../domain';
import { sha256Hex } from '../evidence/canonical-json';
import type { EvidenceReader } from './reader';

export interface Finding {
  /** The object concerned (evidence key), where there is one. */
  key?: string;
  problem: string;
  expected?: string;
  actual?: string;
}

export interface VerifiedEntry extends ChainEntry {
  key: string;
  digest: string;
}

export interface ChainVerification {
  releaseId: string;
  entries: VerifiedEntry[];
  head: ChainHead | null;
  /** Sequence, link, parse and head problems. */
  chainFindings: Finding[];
  /** Artifacts that are missing or whose bytes do not hash to the recorded digest. */
  artifactFindings: Finding[];
  artifactsChecked: number;
  /** Bytes read, by key (content-addressed objects, verified or not): later checks reuse them. */
  objects: Map<string, Uint8Array>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const CHAIN_KEY = /\/chain\/(\d+)$/;
/** Nested refs are followed in JSON artifacts up to this size (histories and bundles are leaves). */
const MAX_JSON_WALK_BYTES = 8 * 1024 * 1024;

export async function verifyChain(
  reader: EvidenceReader,
  releaseId: string,
  opts: { expectedHead?: ChainHead | null; requireTerminal?: boolean } = {},
): Promise<ChainVerification> {
  const prefix = `releases/${releaseId}/chain/`;
  const chainFindings: Finding[] = [];
  const artifactFindings: Finding[] = [];
  const objects = new Map<string, Uint8Array>();
  const keys = (await reader.list(prefix)).filter((k) => CHAIN_KEY.test(k)).sort();
  if (keys.length === 0) chainFindings.push({ key: prefix, problem: `no chain entries under ${prefix}` });

  // Sequence: keys must be exactly 0..n-1 (a gap is a dropped entry).
  const seqOfKey = (k: string) => Number(CHAIN_KEY.exec(k)![1]);
  const present = new Set(keys.map(seqOfKey));
  const maxSeq = keys.length ? seqOfKey(keys[keys.length - 1]!) : -1;
  for (let s = 0; s <= maxSeq; s++) {
    if (!present.has(s))
      chainFindings.push({
        key: chainKey(releaseId, s),
        problem: `chain entry ${s} is missing (dropped or never written)`,
      });
  }

  const entries: VerifiedEntry[] = [];
  const digestBySeq = new Map<number, string>();
  for (const key of keys) {
    const bytes = await reader.read(key);
    if (bytes === null) {
      chainFindings.push({ key, problem: 'listed but cannot be read' });
      continue;
    }
    const digest = sha256Hex(bytes);
    let entry: ChainEntry;
    try {
      entry = ChainEntrySchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    } catch (e) {
      chainFindings.push({
        key,
        problem: `not a valid chain entry: ${(e as Error).message.split('\n')[0]}`,
        actual: digest,
      });
      continue;
    }
    const keySeq = seqOfKey(key);
    if (key !== chainKey(releaseId, keySeq))
      chainFindings.push({ key, problem: 'chain key is not in canonical form', expected: chainKey(releaseId, keySeq) });
    if (entry.seq !== keySeq) {
      chainFindings.push({
        key,
        problem: `entry stored at position ${keySeq} says it is entry ${entry.seq} (entries reordered or moved)`,
        expected: String(keySeq),
        actual: String(entry.seq),
      });
    }
    if (entry.releaseId !== releaseId)
      chainFindings.push({
        key,
        problem: 'entry belongs to another release',
        expected: releaseId,
        actual: entry.releaseId,
      });
    digestBySeq.set(keySeq, digest);
    entries.push({ ...entry, key, digest });
  }

  // Links: each entry names the digest of the one before it.
  for (const e of entries) {
    const keySeq = seqOfKey(e.key);
    const expected = keySeq === 0 ? null : (digestBySeq.get(keySeq - 1) ?? null);
    if (keySeq > 0 && !digestBySeq.has(keySeq - 1)) continue; // already reported as missing
    if (e.prevEntryDigest !== expected) {
      chainFindings.push({
        key: e.key,
        problem:
          keySeq === 0
            ? 'first entry must not link to a predecessor'
            : `broken link: prevEntryDigest does not match the digest of entry ${keySeq - 1}`,
        expected: expected ?? 'null',
        actual: e.prevEntryDigest ?? 'null',
      });
    }
  }

  const last = entries[entries.length - 1];
  const head = last ? { seq: seqOfKey(last.key), digest: last.digest } : null;
  if (opts.expectedHead && head && (opts.expectedHead.seq !== head.seq || opts.expectedHead.digest !== head.digest)) {
    chainFindings.push({
      key: last!.key,
      problem: 'chain head differs from the head the workflow returned (entries dropped from or added to the end)',
      expected: `#${opts.expectedHead.seq} ${opts.expectedHead.digest}`,
      actual: `#${head.seq} ${head.digest}`,
    });
  }
  if ((opts.requireTerminal ?? true) && last && !isTerminal(last.stage as Stage)) {
    chainFindings.push({
      key: last.key,
      problem: `chain ends at entry ${head!.seq} (${last.stage}) without a terminal entry: truncated, or the release has not finished`,
    });
  }

  // Artifacts, then refs inside JSON artifacts, each read once.
  const queue: Array<{ ref: Pick<EvidenceRef, 'key' | 'sha256'> & Partial<EvidenceRef>; from: string }> =
    entries.flatMap((e) => e.artifacts.map((ref) => ({ ref, from: `chain entry ${e.seq} (${e.key})` })));
  const seen = new Set<string>();
  let artifactsChecked = 0;
  while (queue.length > 0) {
    const { ref, from } = queue.shift()!;
    const id = `${ref.key}@${ref.versionId ?? ''}#${ref.sha256}`;
    if (seen.has(id)) continue;
    seen.add(id);
    artifactsChecked++;
    const bytes = await reader.read(ref.key, ref.versionId);
    if (bytes === null) {
      artifactFindings.push({ key: ref.key, problem: `missing (referenced by ${from})`, expected: ref.sha256 });
      continue;
    }
    objects.set(ref.key, bytes);
    const actual = sha256Hex(bytes);
    if (actual !== ref.sha256) {
      artifactFindings.push({
        key: ref.key,
        problem: `bytes do not hash to the recorded digest (referenced by ${from})`,
        expected: ref.sha256,
        actual,
      });
    } else if (ref.size !== undefined && ref.size !== bytes.length) {
      artifactFindings.push({
        key: ref.key,
        problem: `size differs from the recorded size (referenced by ${from})`,
        expected: String(ref.size),
        actual: String(bytes.length),
      });
    }
    if (looksLikeJson(ref, bytes)) {
      for (const nested of nestedRefs(bytes)) queue.push({ ref: nested, from: ref.key });
    }
  }
  // The same object can be referenced with and without a version id: report each mismatch once.
  const unique = [...new Map(artifactFindings.map((f) => [`${f.key}|${f.expected}|${f.actual}`, f])).values()];
  return { releaseId, entries, head, chainFindings, artifactFindings: unique, artifactsChecked, objects };
}

function looksLikeJson(ref: Partial<EvidenceRef>, bytes: Uint8Array): boolean {
  if (bytes.length > MAX_JSON_WALK_BYTES) return false;
  if (ref.mediaType !== undefined) return ref.mediaType.startsWith('application/json');
  return bytes[0] === 0x7b; // '{'
}

/** Every `{ key, sha256 }` object inside a JSON document: the artifacts this evidence points at. */
export function nestedRefs(bytes: Uint8Array): Array<Pick<EvidenceRef, 'key' | 'sha256'> & Partial<EvidenceRef>> {
  let root: unknown;
  try {
    root = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return [];
  }
  const out: Array<Pick<EvidenceRef, 'key' | 'sha256'> & Partial<EvidenceRef>> = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 32 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach((x) => walk(x, depth + 1));
    const o = v as Record<string, unknown>;
    if (typeof o.key === 'string' && typeof o.sha256 === 'string' && SHA256.test(o.sha256)) {
      out.push({
        key: o.key,
        sha256: o.sha256,
        ...(typeof o.size === 'number' ? { size: o.size } : {}),
        ...(typeof o.versionId === 'string' ? { versionId: o.versionId } : {}),
        ...(typeof o.mediaType === 'string' ? { mediaType: o.mediaType } : {}),
      });
    }
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(root, 0);
  return out;
}
