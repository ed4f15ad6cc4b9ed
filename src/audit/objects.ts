/**
 * One evidence object judged by its versions: the version a reference records (or, where none is
 * recorded, the key's first, which the create-only writer locked) is the evidence; anything newer
 * over it only hides it. Each object ends in exactly one state, described in words.
 */
import { sha256Hex } from '../evidence/canonical-json';
import { EvidenceUnreadableError, type EvidenceReader, type ObjectVersion } from './reader';

export type ObjectState = 'intact' | 'hidden' | 'altered' | 'destroyed' | 'unreadable';

export interface ObjectReport {
  key: string;
  /** Who points at it: a chain position or the evidence that references it. */
  referencedBy: string;
  state: ObjectState;
  /** The version read as evidence; null in a bucket without versions. */
  versionId: string | null;
  /** State 'hidden': what a reader of the key alone gets instead of the evidence. */
  hiddenBy?: { versionId: string; deleteMarker: boolean; sha256?: string };
  /** What was expected and what was found, in words. */
  detail: string;
  expected?: string;
  actual?: string;
}

/** What the reference records about the object, where it records it. */
export interface Expectation {
  sha256?: string;
  size?: number;
  versionId?: string;
}

export async function inspectObject(
  reader: EvidenceReader,
  key: string,
  want: Expectation,
  referencedBy: string,
): Promise<{ report: ObjectReport; bytes: Uint8Array | null }> {
  const base = { key, referencedBy };
  const versions = await reader.versions(key);
  const chosen = chooseVersion(versions, want.versionId);
  if ('destroyed' in chosen) {
    return { report: { ...base, state: 'destroyed', versionId: null, detail: chosen.destroyed }, bytes: null };
  }
  const { versionId } = chosen;
  const label = versionId === null ? 'the object' : `version ${versionId}`;
  let bytes: Uint8Array | null;
  try {
    bytes = await reader.read(key, versionId ?? undefined);
  } catch (err) {
    if (!(err instanceof EvidenceUnreadableError)) throw err;
    const detail = `unreadable: the store answered HTTP ${err.status} when ${label} was read, where the evidence bytes were expected`;
    return { report: { ...base, state: 'unreadable', versionId, detail }, bytes: null };
  }
  if (bytes === null) {
    const detail = `destroyed: ${label} was listed but reading it found nothing`;
    return { report: { ...base, state: 'destroyed', versionId, detail }, bytes: null };
  }
  const actual = sha256Hex(bytes);
  if (want.sha256 !== undefined && actual !== want.sha256) {
    const detail = `altered: the bytes of ${label} hash to ${actual}, not to the recorded digest ${want.sha256}`;
    return { report: { ...base, state: 'altered', versionId, detail, expected: want.sha256, actual }, bytes };
  }
  if (want.size !== undefined && want.size !== bytes.length) {
    const detail = `altered: ${label} is ${bytes.length} bytes long, the reference records ${want.size}`;
    const report: ObjectReport = {
      ...base,
      state: 'altered',
      versionId,
      detail,
      expected: String(want.size),
      actual: String(bytes.length),
    };
    return { report, bytes };
  }
  const latest = versions?.[0];
  if (latest && versionId !== null && latest.versionId !== versionId) {
    return { report: await hidden(reader, base, versionId, actual, latest), bytes };
  }
  return { report: { ...base, state: 'intact', versionId, detail: `intact: ${label}, sha256 ${actual}` }, bytes };
}

/** The evidence version: the recorded one, else the first; a reason in words when there is none. */
function chooseVersion(
  versions: ObjectVersion[] | null,
  recorded: string | undefined,
): { versionId: string | null } | { destroyed: string } {
  if (versions === null) return { versionId: null };
  if (versions.length === 0) return { destroyed: 'destroyed: no version of this object exists' };
  const summary = `the key has ${describe(versions)}`;
  if (recorded !== undefined) {
    const v = versions.find((x) => x.versionId === recorded);
    if (!v) return { destroyed: `destroyed: the recorded version ${recorded} no longer exists; ${summary}` };
    if (v.deleteMarker) return { destroyed: `destroyed: the recorded version ${recorded} is a delete marker` };
    return { versionId: recorded };
  }
  const first = versions[versions.length - 1]!;
  // A bucket that stopped versioning lists one 'null' version: the key alone names it.
  if (first.versionId === 'null' && !first.deleteMarker) return { versionId: null };
  if (first.deleteMarker) return { destroyed: `destroyed: the key's first version is a delete marker; ${summary}` };
  return { versionId: first.versionId };
}

async function hidden(
  reader: EvidenceReader,
  base: { key: string; referencedBy: string },
  versionId: string,
  sha256: string,
  latest: ObjectVersion,
): Promise<ObjectReport> {
  let over: string;
  let latestSha: string | undefined;
  if (latest.deleteMarker) over = `delete marker ${latest.versionId}`;
  else {
    const bytes = await reader.read(base.key, latest.versionId).catch(() => null);
    latestSha = bytes ? sha256Hex(bytes) : undefined;
    over = `newer version ${latest.versionId}${latestSha ? ` (sha256 ${latestSha})` : ''}`;
  }
  return {
    ...base,
    state: 'hidden',
    versionId,
    hiddenBy: {
      versionId: latest.versionId,
      deleteMarker: latest.deleteMarker,
      ...(latestSha ? { sha256: latestSha } : {}),
    },
    detail: `hidden: intact version ${versionId} (sha256 ${sha256}) lies under a ${over}; a read of the key without its version gets the ${latest.deleteMarker ? 'delete marker' : 'newer version'}, the audit reads the intact one`,
    expected: `version ${versionId} as the key's latest`,
    actual: latest.deleteMarker ? `delete marker ${latest.versionId}` : `version ${latest.versionId}`,
  };
}

function describe(versions: ObjectVersion[]): string {
  const markers = versions.filter((v) => v.deleteMarker).length;
  const plain = versions.length - markers;
  const parts = [`${plain} version${plain === 1 ? '' : 's'}`];
  if (markers) parts.push(`${markers} delete marker${markers === 1 ? '' : 's'}`);
  return `${parts.join(' and ')} (latest ${versions[0]!.deleteMarker ? 'a delete marker' : 'version'} ${versions[0]!.versionId})`;
}
