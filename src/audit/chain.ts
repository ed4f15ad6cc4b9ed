/**
 * Evidence-chain verification: re-read every chain entry and every artifact it names (and every
 * artifact those JSON artifacts reference), re-hash them, and check sequence and links. Every
 * problem is reported with the key concerned; nothing stops at the first.
 */
import { chainKey } from '../contracts/evidence-keys';
import { ChainEntrySchema, isTerminal, type ChainEntry, type ChainHead, type EvidenceRef, type Stage } from '../domain';
import { sha256Hex } from '../evidence/canonical-json';
import { inspectObject, type ObjectReport } from './objects';
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
  /** Sequence, link, parse and head problems, and chain entries destroyed or unreadable. */
  chainFindings: Finding[];
  /** Artifacts altered, destroyed or unreadable. */
  artifactFindings: Finding[];
  /** Intact evidence under a newer version or a delete marker (it is still what the checks read). */
  hiddenFindings: Finding[];
  /** Every object read (chain entries, then artifacts) with its state. */
  objectReports: ObjectReport[];
  artifactsChecked: number;
  /** Bytes read, by key (content-addressed objects, verified or not): later checks reuse them. */
  objects: Map<string, Uint8Array>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const CHAIN_KEY = /\/chain\/(\d+)$/;
/** Nested refs are followed in JSON artifacts up to this size (histories and bundles are leaves). */
const MAX_JSON_WALK_BYTES = 8 * 1024 * 1024;
const seqOfKey = (k: string): number => Number(CHAIN_KEY.exec(k)![1]);

/** Findings and reports as verification goes: each object report lands in the check it concerns. */
class Collector {
  readonly chain: Finding[] = [];
  readonly artifacts: Finding[] = [];
  readonly hidden: Finding[] = [];
  readonly reports: ObjectReport[] = [];

  record(report: ObjectReport, into: Finding[]): void {
    this.reports.push(report);
    if (report.state === 'intact') return;
    const finding: Finding = { key: report.key, problem: `${report.detail} (${report.referencedBy})` };
    if (report.expected !== undefined) finding.expected = report.expected;
    if (report.actual !== undefined) finding.actual = report.actual;
    (report.state === 'hidden' ? this.hidden : into).push(finding);
  }
}

export async function verifyChain(
  reader: EvidenceReader,
  releaseId: string,
  opts: { expectedHead?: ChainHead | null; requireTerminal?: boolean } = {},
): Promise<ChainVerification> {
  const prefix = `releases/${releaseId}/chain/`;
  const found = new Collector();
  const keys = (await reader.list(prefix)).filter((k) => CHAIN_KEY.test(k)).sort();
  if (keys.length === 0) found.chain.push({ key: prefix, problem: `no chain entries under ${prefix}` });
  found.chain.push(...sequenceGaps(releaseId, keys));
  const entries = await readEntries(reader, releaseId, keys, found);
  found.chain.push(...brokenLinks(entries));
  const last = entries[entries.length - 1];
  const head = last ? { seq: seqOfKey(last.key), digest: last.digest } : null;
  if (opts.expectedHead && head && (opts.expectedHead.seq !== head.seq || opts.expectedHead.digest !== head.digest)) {
    found.chain.push({
      key: last!.key,
      problem: 'chain head differs from the head the workflow returned (entries dropped from or added to the end)',
      expected: `#${opts.expectedHead.seq} ${opts.expectedHead.digest}`,
      actual: `#${head.seq} ${head.digest}`,
    });
  }
  if ((opts.requireTerminal ?? true) && last && !isTerminal(last.stage as Stage)) {
    found.chain.push({
      key: last.key,
      problem: `chain ends at entry ${head!.seq} (${last.stage}) without a terminal entry: truncated, or the release has not finished`,
    });
  }
  const { objects, checked } = await verifyArtifacts(reader, entries, found);
  // The same object can be referenced with and without a version id: report each mismatch once.
  const unique = [...new Map(found.artifacts.map((f) => [`${f.key}|${f.problem.split(' (')[0]}`, f])).values()];
  const hidden = [...new Map(found.hidden.map((f) => [`${f.key}|${f.actual}`, f])).values()];
  return {
    releaseId,
    entries,
    head,
    chainFindings: found.chain,
    artifactFindings: unique,
    hiddenFindings: hidden,
    objectReports: found.reports,
    artifactsChecked: checked,
    objects,
  };
}

/** Keys must be exactly 0..n-1: a gap is an entry of which no version exists. */
function sequenceGaps(releaseId: string, keys: string[]): Finding[] {
  const present = new Set(keys.map(seqOfKey));
  const maxSeq = keys.length ? seqOfKey(keys[keys.length - 1]!) : -1;
  const gaps: Finding[] = [];
  for (let s = 0; s <= maxSeq; s++) {
    if (!present.has(s))
      gaps.push({
        key: chainKey(releaseId, s),
        problem: `chain entry ${s} is missing: no version of it exists (destroyed, or never written), though entry ${maxSeq} does`,
      });
  }
  return gaps;
}

async function readEntries(
  reader: EvidenceReader,
  releaseId: string,
  keys: string[],
  found: Collector,
): Promise<VerifiedEntry[]> {
  const entries: VerifiedEntry[] = [];
  for (const key of keys) {
    const keySeq = seqOfKey(key);
    const { report, bytes } = await inspectObject(reader, key, {}, `chain entry ${keySeq}`);
    found.record(report, found.chain);
    if (bytes === null) continue;
    const digest = sha256Hex(bytes);
    const parsed = parseEntry(bytes);
    if (typeof parsed === 'string') {
      found.chain.push({
        key,
        problem: `expected chain entry ${keySeq} (JSON with releaseId, seq, stage, step, prevEntryDigest, artifacts, decision, at); found ${parsed}`,
        actual: digest,
      });
      continue;
    }
    if (key !== chainKey(releaseId, keySeq))
      found.chain.push({ key, problem: 'chain key is not in canonical form', expected: chainKey(releaseId, keySeq) });
    if (parsed.seq !== keySeq) {
      found.chain.push({
        key,
        problem: `entry stored at position ${keySeq} says it is entry ${parsed.seq} (entries reordered or moved)`,
        expected: String(keySeq),
        actual: String(parsed.seq),
      });
    }
    if (parsed.releaseId !== releaseId)
      found.chain.push({
        key,
        problem: 'entry belongs to another release',
        expected: releaseId,
        actual: parsed.releaseId,
      });
    entries.push({ ...parsed, key, digest });
  }
  return entries;
}

/** The entry, or what was found instead, in words. */
function parseEntry(bytes: Uint8Array): ChainEntry | string {
  const text = Buffer.from(bytes).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `${bytes.length} bytes that are not JSON (starting ${JSON.stringify(text.slice(0, 24))})`;
  }
  const res = ChainEntrySchema.safeParse(json);
  if (res.success) return res.data;
  const issues = res.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'the document'}: ${i.message}`);
  return `JSON that is not a chain entry (${issues.join('; ')})`;
}

/** Each entry names the digest of the one before it. */
function brokenLinks(entries: VerifiedEntry[]): Finding[] {
  const digestBySeq = new Map(entries.map((e) => [seqOfKey(e.key), e.digest]));
  const findings: Finding[] = [];
  for (const e of entries) {
    const keySeq = seqOfKey(e.key);
    if (keySeq > 0 && !digestBySeq.has(keySeq - 1)) continue; // its predecessor is already reported
    const expected = keySeq === 0 ? null : digestBySeq.get(keySeq - 1)!;
    if (e.prevEntryDigest === expected) continue;
    findings.push({
      key: e.key,
      problem:
        keySeq === 0
          ? 'first entry must not link to a predecessor'
          : `broken link: prevEntryDigest does not match the digest of entry ${keySeq - 1}`,
      expected: expected ?? 'null',
      actual: e.prevEntryDigest ?? 'null',
    });
  }
  return findings;
}

/** Every artifact the entries name, then refs inside JSON artifacts, each read once. */
async function verifyArtifacts(
  reader: EvidenceReader,
  entries: VerifiedEntry[],
  found: Collector,
): Promise<{ objects: Map<string, Uint8Array>; checked: number }> {
  const objects = new Map<string, Uint8Array>();
  const queue: Array<{ ref: Pick<EvidenceRef, 'key' | 'sha256'> & Partial<EvidenceRef>; from: string }> =
    entries.flatMap((e) => e.artifacts.map((ref) => ({ ref, from: `referenced by chain entry ${e.seq} (${e.key})` })));
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { ref, from } = queue.shift()!;
    const id = `${ref.key}@${ref.versionId ?? ''}#${ref.sha256}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const { report, bytes } = await inspectObject(reader, ref.key, ref, from);
    found.record(report, found.artifacts);
    if (bytes === null) continue;
    objects.set(ref.key, bytes);
    if (looksLikeJson(ref, bytes)) {
      for (const nested of nestedRefs(bytes)) queue.push({ ref: nested, from: `referenced by ${ref.key}` });
    }
  }
  return { objects, checked: seen.size };
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
