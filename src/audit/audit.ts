/**
 * `vigil audit`: everything an auditor needs to trust a release's record, re-derived from primary
 * evidence. Histories come from Temporal, or from the evidence archive when Temporal no longer has
 * them; they are replayed against the build that ran them and the current build; the evidence chain
 * and every artifact are re-hashed; every gate decision is recomputed with the same pure judges.
 */
import type { PayloadCodec } from '@temporalio/common';
import { HISTORY_ARCHIVE_KIND, type HistoryArchive } from '../contracts/history-archive';
import type { ChainHead, ReleaseResult } from '../domain';
import { buildIdFor } from './build';
import { verifyChain, type ChainVerification, type Finding } from './chain';
import { chainWritesMatch, recomputeDecisions, type DecisionCheck } from './decisions';
import { completedActivities, describeRun, firstDifferingEvent, type RunHistory } from './history';
import type { ObjectReport, ObjectState } from './objects';
import type { EvidenceReader } from './reader';
import { replayAgainst, type ReplayOutcome } from './replay';
import { checkActAuthentications, collectSignatures, type SignatureManifestation } from './signature-manifestations';

export interface TemporalHistorySource {
  /** The run's full history (`historyToJSON`), or null when Temporal no longer has it. */
  fetch(workflowId: string, runId: string): Promise<string | null>;
}

export interface AuditDeps {
  reader: EvidenceReader;
  /** null: audit from the archive only (Temporal unreachable, or --from-archive). */
  temporal: TemporalHistorySource | null;
  currentBundle: () => Promise<{ code: string }>;
  /** The payload codecs the worker ran with (payload encryption), if any: needed to read and replay. */
  payloadCodecs?: PayloadCodec[];
  now?: () => Date;
}

export type CheckId =
  | 'evidence-chain'
  | 'evidence-artifacts'
  | 'evidence-versions'
  | 'histories'
  | 'replay-recorded-build'
  | 'replay-current-build'
  | 'history-chain-writes'
  | 'decisions'
  | 'signatures';

export interface AuditCheck {
  id: CheckId;
  title: string;
  passed: boolean;
  summary: string;
  findings: Finding[];
}

export interface AuditedHistory {
  workflowId: string;
  runId: string;
  workflowType: string;
  source: 'temporal' | 'archive';
  events: number;
  archive: { key: string; reason: string; events: number; historyKey: string } | null;
  recordedBuildId: string | null;
  buildIdsInHistory: string[];
  replayRecorded: ReplayOutcome | null;
  replayCurrent: ReplayOutcome | null;
}

export interface AuditReport {
  kind: 'vigil.audit/v1';
  releaseId: string;
  auditedAt: string;
  passed: boolean;
  checks: AuditCheck[];
  chain: { entries: number; head: ChainHead | null; artifactsChecked: number };
  /** Every evidence object read, with its state (intact, hidden, altered, destroyed, unreadable). */
  objects: ObjectReport[];
  histories: AuditedHistory[];
  builds: { current: string; recorded: string[] };
  policySha256: string | null;
  decisions: DecisionCheck[];
  signatures: SignatureManifestation[];
  timings: { replayMs: number; totalMs: number };
}

const TITLES: Record<CheckId, string> = {
  'evidence-chain': 'Evidence chain: sequence, links and head',
  'evidence-artifacts': 'Evidence artifacts re-hash to their recorded digests',
  'evidence-versions': 'No evidence hidden under a newer version or a delete marker',
  histories: 'Workflow histories obtained (Temporal or archive) and consistent with the archive',
  'replay-recorded-build': 'Histories replay against the build that ran them',
  'replay-current-build': 'Histories replay against the current build',
  'history-chain-writes': 'Chain entries are the ones the workflow wrote (history vs store)',
  decisions: 'Gate decisions recomputed from stored measurements and the pinned policy',
  signatures: 'Signatures with their manifestation (printed name, time, meaning, role)',
};

function check(id: CheckId, findings: Finding[], summary: string): AuditCheck {
  return { id, title: TITLES[id], passed: findings.length === 0, summary, findings };
}

/** Evidence only: the chain and every artifact, re-read and re-hashed (`vigil evidence verify`). */
export async function verifyEvidence(
  reader: EvidenceReader,
  releaseId: string,
): Promise<{ chain: ChainVerification; checks: AuditCheck[]; passed: boolean }> {
  const chain = await verifyChain(reader, releaseId);
  const checks = [
    check(
      'evidence-chain',
      chain.chainFindings,
      `${chain.entries.length} entries; head ${chain.head ? `#${chain.head.seq} ${chain.head.digest}` : '-'}`,
    ),
    check('evidence-artifacts', chain.artifactFindings, `${chain.artifactsChecked} artifacts re-read and re-hashed`),
    check('evidence-versions', chain.hiddenFindings, stateCounts(chain.objectReports)),
  ];
  return { chain, checks, passed: checks.every((c) => c.passed) };
}

export async function auditRelease(releaseId: string, deps: AuditDeps): Promise<AuditReport> {
  const t0 = performance.now();
  const now = deps.now ?? (() => new Date());
  const { chain, checks } = await verifyEvidence(deps.reader, releaseId);
  const text = (key: string): string | null => {
    const b = chain.objects.get(key);
    return b ? Buffer.from(b).toString('utf8') : null;
  };
  const { runs, findings: historyFindings } = await obtainRuns(archiveManifests(chain, text), text, deps);

  // The head the lifecycle returned, when Temporal still has the completion.
  const parent = runs.find((r) => r.run.workflowId === releaseId && r.run.completed);
  const returned = (parent?.run.result as ReleaseResult | undefined)?.chainHead;
  if (returned && chain.head && (returned.seq !== chain.head.seq || returned.digest !== chain.head.digest)) {
    checks[0]!.findings.push({
      problem: 'chain head differs from the head the workflow returned',
      expected: `#${returned.seq} ${returned.digest}`,
      actual: `#${chain.head.seq} ${chain.head.digest}`,
    });
    checks[0]!.passed = false;
  }

  const current = await deps.currentBundle();
  const currentBuild = buildIdFor(current.code).buildId;
  const tReplay = performance.now();
  const recorded = await replayRecorded(runs, text, deps.payloadCodecs);
  const latest = await replayCurrent(runs, current, currentBuild, deps.payloadCodecs);
  const replayMs = performance.now() - tReplay;

  const calls = runs.flatMap((r) =>
    safe(
      () => completedActivities(r.run),
      () => [],
    ),
  );
  const decisions = recomputeDecisions(calls, chain.entries);
  const writes = chainWritesMatch(calls, chain.entries);
  const sigs = collectSignatures(chain.entries, chain.objects);
  const acts = checkActAuthentications(chain.entries, chain.objects);
  const sources = runs.map((r) => r.run.source);
  const chainWrites = calls.filter((c) => c.name === 'appendChainEntry').length;
  const identical = decisions.checks.filter((c) => c.match).length;
  checks.push(
    check(
      'histories',
      historyFindings,
      `${runs.length} runs: ${count(sources, 'temporal')} from Temporal, ${count(sources, 'archive')} from the archive`,
    ),
    check(
      'replay-recorded-build',
      recorded.findings,
      `${recorded.results.size} runs replayed against ${recorded.builds} recorded build(s)`,
    ),
    check('replay-current-build', latest.findings, `${latest.results.size} runs replayed against ${currentBuild}`),
    check('history-chain-writes', writes, `${chainWrites} chain writes in history compared with the store`),
    check(
      'decisions',
      decisions.findings,
      `${identical} of ${decisions.checks.length} gate decisions recomputed identically`,
    ),
    check(
      'signatures',
      [...sigs.findings, ...acts.findings],
      `${sigs.signatures.length} signatures${acts.checked ? `; ${acts.checked} OIDC-authenticated canary decisions and adjudications` : ''}`,
    ),
  );
  if (runs.length === 0) {
    for (const c of checks.slice(-4)) {
      c.findings.push({ problem: 'no history to check against' });
      c.passed = false;
    }
  }

  return {
    kind: 'vigil.audit/v1',
    releaseId,
    auditedAt: now().toISOString(),
    passed: checks.every((c) => c.passed),
    checks,
    chain: { entries: chain.entries.length, head: chain.head, artifactsChecked: chain.artifactsChecked },
    objects: chain.objectReports,
    histories: runs.map(({ run, manifest }) => ({
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      source: run.source,
      events: run.history.events?.length ?? 0,
      archive: {
        key: manifest.key,
        reason: manifest.archive.reason,
        events: manifest.archive.events,
        historyKey: manifest.archive.history.key,
      },
      recordedBuildId: manifest.archive.build.buildId,
      buildIdsInHistory: run.buildIds,
      replayRecorded: recorded.results.get(run.runId) ?? null,
      replayCurrent: latest.results.get(run.runId) ?? null,
    })),
    builds: { current: currentBuild, recorded: [...new Set(runs.map((r) => r.manifest.archive.build.buildId))] },
    policySha256: decisions.policySha256,
    decisions: decisions.checks,
    signatures: sigs.signatures,
    timings: { replayMs: Math.round(replayMs), totalMs: Math.round(performance.now() - t0) },
  };
}

interface Manifest {
  key: string;
  archive: HistoryArchive;
}
interface AuditedRun {
  run: RunHistory;
  manifest: Manifest;
}

/** Which runs: every archive manifest linked from the chain (one per run; the latest wins). */
function archiveManifests(chain: ChainVerification, text: (key: string) => string | null): Manifest[] {
  const manifests = new Map<string, Manifest>();
  for (const ref of chain.entries.flatMap((e) => e.artifacts)) {
    const body = ref.mediaType.startsWith('application/json') ? text(ref.key) : null;
    if (!body?.includes(HISTORY_ARCHIVE_KIND)) continue;
    const doc = safe(
      () => JSON.parse(body) as HistoryArchive,
      () => null,
    );
    if (doc?.kind !== HISTORY_ARCHIVE_KIND) continue;
    const prev = manifests.get(doc.runId);
    if (!prev || prev.archive.events < doc.events) manifests.set(doc.runId, { key: ref.key, archive: doc });
  }
  return [...manifests.values()];
}

/** Each run's history from Temporal when it still has it, else from the archive; both compared. */
async function obtainRuns(
  manifests: Manifest[],
  text: (key: string) => string | null,
  deps: AuditDeps,
): Promise<{ runs: AuditedRun[]; findings: Finding[] }> {
  const findings: Finding[] = [];
  if (manifests.length === 0)
    findings.push({ problem: 'no archived workflow history is linked from the evidence chain' });
  const runs: AuditedRun[] = [];
  for (const m of manifests) {
    const { archive } = m;
    const of = `${archive.workflowId} run ${archive.runId}`;
    const archived = text(archive.history.key);
    if (archived === null)
      findings.push({ key: archive.history.key, problem: `archived history of ${of} cannot be read` });
    const full = deps.temporal ? await deps.temporal.fetch(archive.workflowId, archive.runId) : null;
    if (full !== null && archived !== null) {
      const diff = safe(
        () => firstDifferingEvent(archived, full),
        (e) => ({ eventId: 0, problem: `cannot compare: ${e}` }),
      );
      if (diff) findings.push({ key: archive.history.key, problem: `event ${diff.eventId} of ${of}: ${diff.problem}` });
    }
    const json = full ?? archived;
    if (json === null) continue;
    const source = full !== null ? 'temporal' : 'archive';
    let run: RunHistory;
    try {
      run = await describeRun(archive.workflowId, archive.runId, source, json, deps.payloadCodecs);
    } catch (e) {
      findings.push({
        key: archive.history.key,
        problem: `history of ${of} cannot be decoded: ${(e as Error).message}`,
      });
      continue;
    }
    if (!run.buildIds.includes(archive.build.buildId)) {
      findings.push({
        key: m.key,
        problem: `${of}: the archive names a build that no workflow task in the history was run by`,
        expected: archive.build.buildId,
        actual: run.buildIds.join(', ') || '(none)',
      });
    }
    runs.push({ run, manifest: m });
  }
  return { runs, findings };
}

/** Each run against the archived bundle of the build recorded with it. */
async function replayRecorded(
  runs: AuditedRun[],
  text: (key: string) => string | null,
  codecs: PayloadCodec[] | undefined,
): Promise<{ findings: Finding[]; results: Map<string, ReplayOutcome>; builds: number }> {
  const findings: Finding[] = [];
  const results = new Map<string, ReplayOutcome>();
  const byBundle = new Map<string, AuditedRun[]>();
  for (const r of runs) {
    const key = r.manifest.archive.build.bundle.key;
    byBundle.set(key, [...(byBundle.get(key) ?? []), r]);
  }
  for (const [bundleKey, group] of byBundle) {
    const code = text(bundleKey);
    const build = group[0]!.manifest.archive.build;
    if (code === null) {
      findings.push({ key: bundleKey, problem: `workflow bundle of build ${build.buildId} cannot be read` });
      continue;
    }
    const actual = buildIdFor(code).buildId;
    if (actual !== build.buildId)
      findings.push({
        key: bundleKey,
        problem: 'archived bundle is not the code of the recorded build',
        expected: build.buildId,
        actual,
      });
    const outcomes = await replayAgainst(
      { code },
      group.map((g) => g.run),
      codecs,
    );
    for (const o of outcomes) {
      results.set(o.runId, o);
      if (!o.ok)
        findings.push({
          key: group.find((g) => g.run.runId === o.runId)!.manifest.archive.history.key,
          problem: `${o.workflowId} run ${o.runId} does not replay against build ${build.buildId}: ${o.error}`,
        });
    }
  }
  return { findings, results, builds: byBundle.size };
}

/** Every run against the current workflow code. */
async function replayCurrent(
  runs: AuditedRun[],
  current: { code: string },
  currentBuild: string,
  codecs: PayloadCodec[] | undefined,
): Promise<{ findings: Finding[]; results: Map<string, ReplayOutcome> }> {
  const findings: Finding[] = [];
  const results = new Map<string, ReplayOutcome>();
  if (runs.length === 0) return { findings, results };
  const outcomes = await replayAgainst(
    current,
    runs.map((r) => r.run),
    codecs,
  );
  for (const o of outcomes) {
    results.set(o.runId, o);
    if (!o.ok)
      findings.push({
        problem: `${o.workflowId} run ${o.runId} does not replay against the current build ${currentBuild}: ${o.error}`,
      });
  }
  return { findings, results };
}

const STATES: ObjectState[] = ['intact', 'hidden', 'altered', 'destroyed', 'unreadable'];

/** e.g. "59 objects: 58 intact, 1 hidden". */
function stateCounts(reports: ObjectReport[]): string {
  const parts = STATES.map((s) => [s, reports.filter((r) => r.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return `${reports.length} objects: ${parts.join(', ') || 'none read'}`;
}

const count = <T>(xs: T[], x: T): number => xs.filter((y) => y === x).length;

function safe<T>(fn: () => T, fallback: (e: string) => T): T {
  try {
    return fn();
  } catch (e) {
    return fallback(e instanceof Error ? e.message : String(e));
  }
}
