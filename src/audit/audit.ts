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
import type { EvidenceReader } from './reader';
import { replayAgainst, type ReplayOutcome } from './replay';
import { collectSignatures, type SignatureManifestation } from './signatures';

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

  // Which runs: every archive manifest linked from the chain (one per run; the latest wins).
  const manifests = new Map<string, { key: string; archive: HistoryArchive }>();
  for (const ref of chain.entries.flatMap((e) => e.artifacts)) {
    const body = ref.mediaType.startsWith('application/json') ? text(ref.key) : null;
    if (!body?.includes(HISTORY_ARCHIVE_KIND)) continue;
    let doc: HistoryArchive;
    try {
      doc = JSON.parse(body) as HistoryArchive;
    } catch {
      continue;
    }
    if (doc.kind !== HISTORY_ARCHIVE_KIND) continue;
    const prev = manifests.get(doc.runId);
    if (!prev || prev.archive.events < doc.events) manifests.set(doc.runId, { key: ref.key, archive: doc });
  }

  const historyFindings: Finding[] = [];
  if (manifests.size === 0)
    historyFindings.push({ problem: 'no archived workflow history is linked from the evidence chain' });
  const runs: Array<{ run: RunHistory; manifest: { key: string; archive: HistoryArchive } }> = [];
  for (const m of manifests.values()) {
    const { archive } = m;
    const archived = text(archive.history.key);
    if (archived === null)
      historyFindings.push({
        key: archive.history.key,
        problem: `archived history of ${archive.workflowId} run ${archive.runId} cannot be read`,
      });
    let full: string | null = null;
    if (deps.temporal) full = await deps.temporal.fetch(archive.workflowId, archive.runId);
    if (full !== null && archived !== null) {
      const diff = safe(
        () => firstDifferingEvent(archived, full),
        (e) => ({ eventId: 0, problem: `cannot compare: ${e}` }),
      );
      if (diff)
        historyFindings.push({
          key: archive.history.key,
          problem: `event ${diff.eventId} of ${archive.workflowId} run ${archive.runId}: ${diff.problem}`,
        });
    }
    const json = full ?? archived;
    if (json === null) continue;
    let run: RunHistory;
    try {
      run = await describeRun(
        archive.workflowId,
        archive.runId,
        full !== null ? 'temporal' : 'archive',
        json,
        deps.payloadCodecs,
      );
    } catch (e) {
      historyFindings.push({
        key: archive.history.key,
        problem: `history of ${archive.workflowId} run ${archive.runId} cannot be decoded: ${(e as Error).message}`,
      });
      continue;
    }
    if (!run.buildIds.includes(archive.build.buildId)) {
      historyFindings.push({
        key: m.key,
        problem: `${archive.workflowId} run ${archive.runId}: the archive names a build that no workflow task in the history was run by`,
        expected: archive.build.buildId,
        actual: run.buildIds.join(', ') || '(none)',
      });
    }
    runs.push({ run, manifest: m });
  }

  // The head the lifecycle returned, when Temporal still has the completion.
  const parent = runs.find((r) => r.run.workflowId === releaseId && r.run.completed);
  const returned = (parent?.run.result as ReleaseResult | undefined)?.chainHead;
  const chainFindings = checks[0]!.findings;
  if (returned && chain.head && (returned.seq !== chain.head.seq || returned.digest !== chain.head.digest)) {
    chainFindings.push({
      problem: 'chain head differs from the head the workflow returned',
      expected: `#${returned.seq} ${returned.digest}`,
      actual: `#${chain.head.seq} ${chain.head.digest}`,
    });
    checks[0]!.passed = false;
  }

  // Replay: each run against the build recorded with it, then all against the current build.
  const current = await deps.currentBundle();
  const tReplay = performance.now();
  const recordedFindings: Finding[] = [];
  const recordedResults = new Map<string, ReplayOutcome>();
  const byBundle = new Map<string, typeof runs>();
  for (const r of runs)
    byBundle.set(r.manifest.archive.build.bundle.key, [
      ...(byBundle.get(r.manifest.archive.build.bundle.key) ?? []),
      r,
    ]);
  for (const [bundleKey, group] of byBundle) {
    const code = text(bundleKey);
    const build = group[0]!.manifest.archive.build;
    if (code === null) {
      recordedFindings.push({ key: bundleKey, problem: `workflow bundle of build ${build.buildId} cannot be read` });
      continue;
    }
    if (buildIdFor(code).buildId !== build.buildId) {
      recordedFindings.push({
        key: bundleKey,
        problem: 'archived bundle is not the code of the recorded build',
        expected: build.buildId,
        actual: buildIdFor(code).buildId,
      });
    }
    for (const o of await replayAgainst(
      { code },
      group.map((g) => g.run),
      deps.payloadCodecs,
    )) {
      recordedResults.set(o.runId, o);
      if (!o.ok)
        recordedFindings.push({
          key: group.find((g) => g.run.runId === o.runId)!.manifest.archive.history.key,
          problem: `${o.workflowId} run ${o.runId} does not replay against build ${build.buildId}: ${o.error}`,
        });
    }
  }
  const currentBuild = buildIdFor(current.code).buildId;
  const currentFindings: Finding[] = [];
  const currentResults = new Map<string, ReplayOutcome>();
  if (runs.length > 0) {
    for (const o of await replayAgainst(
      current,
      runs.map((r) => r.run),
      deps.payloadCodecs,
    )) {
      currentResults.set(o.runId, o);
      if (!o.ok)
        currentFindings.push({
          problem: `${o.workflowId} run ${o.runId} does not replay against the current build ${currentBuild}: ${o.error}`,
        });
    }
  }
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

  const sources = runs.map((r) => r.run.source);
  checks.push(
    check(
      'histories',
      historyFindings,
      `${runs.length} runs: ${count(sources, 'temporal')} from Temporal, ${count(sources, 'archive')} from the archive`,
    ),
    check(
      'replay-recorded-build',
      recordedFindings,
      `${recordedResults.size} runs replayed against ${byBundle.size} recorded build(s)`,
    ),
    check('replay-current-build', currentFindings, `${currentResults.size} runs replayed against ${currentBuild}`),
    check(
      'history-chain-writes',
      writes,
      `${calls.filter((c) => c.name === 'appendChainEntry').length} chain writes in history compared with the store`,
    ),
    check(
      'decisions',
      decisions.findings,
      `${decisions.checks.filter((c) => c.match).length} of ${decisions.checks.length} gate decisions recomputed identically`,
    ),
    check('signatures', sigs.findings, `${sigs.signatures.length} signatures`),
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
      replayRecorded: recordedResults.get(run.runId) ?? null,
      replayCurrent: currentResults.get(run.runId) ?? null,
    })),
    builds: { current: currentBuild, recorded: [...new Set(runs.map((r) => r.manifest.archive.build.buildId))] },
    policySha256: decisions.policySha256,
    decisions: decisions.checks,
    signatures: sigs.signatures,
    timings: { replayMs: Math.round(replayMs), totalMs: Math.round(performance.now() - t0) },
  };
}

const count = <T>(xs: T[], x: T): number => xs.filter((y) => y === x).length;

function safe<T>(fn: () => T, fallback: (e: string) => T): T {
  try {
    return fn();
  } catch (e) {
    return fallback(e instanceof Error ? e.message : String(e));
  }
}
