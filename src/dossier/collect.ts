/**
 * Gathers a release dossier's content from evidence: everything shown is read back (and re-hashed) from the
 * store by the references the workflow recorded, never recomputed.
 */
import { parse as parseYaml } from 'yaml';
import type { EvidencePort } from '../contracts/ports';
import { IN_TOTO_PAYLOAD_TYPE } from '../attestation/dsse';
import {
  DatasetManifestSchema,
  type ChainHead,
  type DatasetManifest,
  type EvidenceRef,
  type ReleaseRequest,
  type SignatureRecord,
  type StageRecord,
} from '../domain';
import type { AdjudicationTally, ShadowMeasurement } from '../domain';
import {
  ADJUDICATION_KIND,
  SHADOW_ADJUDICATION_KIND,
  SHADOW_DISAGREEMENTS_KIND,
  type DisagreementSample,
} from '../contracts/shadow-records';
import { ModelCardSchema, type ModelCard } from './model-card';

/** One line of the evidence index: what it is, where it came from, and its address and digest. */
export interface EvidenceEntry {
  label: string;
  /** Stage that recorded it, or "request" for what the release request referenced. */
  source: string;
  key: string;
  sha256: string;
  mediaType: string;
}

/** A signed statement issued for this release. */
export interface AttestationEntry {
  predicateType: string;
  keyIds: string[];
  ref: EvidenceRef;
}

export interface DossierInput {
  releaseId: string;
  request: ReleaseRequest;
  policySha256: string;
  history: StageRecord[];
  chainHead: ChainHead | null;
  signatures?: SignatureRecord[];
  at: string;
}

/** Loosely typed views of evidence written by other stages: only the fields the dossier shows. */
export interface ChangeSummaryView {
  dimensions: { dimension: string; changed: boolean; from: string | null; to: string | null; note?: string }[];
  changeClass: 'withinPlan' | 'substantial';
  requiredRoles: string[];
  incumbent: { provenanceRecorded: boolean };
}
export interface OfflineReportView {
  report: {
    accepted: boolean;
    n: number;
    criteria: { id: string; status: string; reason: string }[];
    slices: {
      slice: string;
      n: number;
      positives: number;
      candidate: Record<string, MetricView>;
      incumbent: Record<string, MetricView>;
    }[];
  };
}
export interface MetricView {
  estimate: number | null;
  interval?: { lower: number; upper: number } | null;
}
/** The SHADOW measurement record (`vigil.shadow/v1`) as the dossier shows it. */
export interface ShadowView {
  source?: string;
  /** A simulated window's name, or a telemetry window's bounds (as each source records it). */
  window?: unknown;
  threshold?: number;
  measurement: Partial<ShadowMeasurement> & { cases: number; agreement: number | null };
  agreementTable?: { both?: number; neither?: number; candidateOnly?: number; productionOnly?: number };
}
/** The tally of the clinical adjudication (`vigil.shadow-adjudication/v1`) and every adjudication record. */
export interface AdjudicationView {
  rule: string;
  tally: AdjudicationTally;
  records: {
    sampleId: string;
    site: string;
    direction: string;
    reviewer: string;
    printedName: string;
    role: string;
    verdict: string;
    comment: string;
    at: string;
  }[];
}
/** A measurement record that names the live source it was measured on. */
export interface SourceEntry {
  stage: string;
  kind: string;
  source: string;
}

export interface DossierData {
  input: DossierInput;
  modelCard: ModelCard | { error: string } | null;
  manifests: { dataset: ReleaseRequest['datasets'][number]; manifest: DatasetManifest | null }[];
  changeSummary: ChangeSummaryView | null;
  snapshot: { environment?: Record<string, unknown> } | null;
  offline: { report: OfflineReportView | null; html: string | null };
  shadow: ShadowView | null;
  /** The disagreement sample reviewers judged (case-level scores, pseudonymised ids). */
  disagreements: DisagreementSample | null;
  adjudication: AdjudicationView | null;
  /** Every stage record that names its live source: the page says which parts were measured on simulated traffic. */
  sources: SourceEntry[];
  attestations: AttestationEntry[];
  evidence: EvidenceEntry[];
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

function describe(value: unknown, ref: EvidenceRef): string {
  if (ref.mediaType.startsWith('text/html')) return 'readable report (HTML)';
  const v = value as { kind?: unknown; payloadType?: unknown; id?: unknown; offline?: unknown } | null;
  if (v && typeof v.kind === 'string') return v.kind;
  if (v && v.payloadType === IN_TOTO_PAYLOAD_TYPE) return 'attestation (DSSE)';
  if (v && typeof v.id === 'string' && v.offline !== undefined) return 'release policy';
  return ref.mediaType;
}

function statementOf(envelope: {
  payload?: unknown;
  signatures?: { keyid?: string }[];
}): { predicateType: string } | null {
  try {
    return JSON.parse(Buffer.from(String(envelope.payload), 'base64').toString('utf8')) as { predicateType: string };
  } catch {
    return null;
  }
}

/** The adjudication tally with each adjudication record read back (re-hashed) for its comment and reviewer. */
async function adjudicationOf(evidence: EvidencePort, value: unknown): Promise<AdjudicationView> {
  const v = value as { rule?: string; tally: AdjudicationTally; adjudications?: EvidenceRef[] };
  const records: AdjudicationView['records'] = [];
  for (const ref of v.adjudications ?? []) {
    const r = JSON.parse(text(await evidence.getBytes(ref.key, ref.sha256))) as AdjudicationView['records'][number] & {
      kind?: string;
    };
    if (r.kind !== ADJUDICATION_KIND) continue;
    records.push({
      sampleId: r.sampleId,
      site: r.site,
      direction: r.direction,
      reviewer: r.reviewer,
      printedName: r.printedName,
      role: r.role,
      verdict: r.verdict,
      comment: r.comment,
      at: r.at,
    });
  }
  return { rule: v.rule ?? '', tally: v.tally, records };
}

export async function collectDossier(evidence: EvidencePort, input: DossierInput): Promise<DossierData> {
  const r = input.request;
  const data: DossierData = {
    input,
    modelCard: null,
    manifests: [],
    changeSummary: null,
    snapshot: null,
    offline: { report: null, html: null },
    shadow: null,
    disagreements: null,
    adjudication: null,
    sources: [],
    attestations: [],
    evidence: [],
  };
  const fromRequest = (label: string, ref: { key: string; sha256: string }, mediaType: string) =>
    data.evidence.push({ label, source: 'request', key: ref.key, sha256: ref.sha256, mediaType });
  fromRequest(`candidate model ${r.candidate.version}`, r.candidate.artifact, 'model');
  fromRequest(`incumbent model ${r.incumbent.version}`, r.incumbent.artifact, 'model');

  const [card, manifests] = await Promise.all([
    r.modelCard ? evidence.getBytes(r.modelCard.key, r.modelCard.sha256) : Promise.resolve(null),
    Promise.all(
      r.datasets.map(async (d) => (d.manifest ? evidence.getBytes(d.manifest.key, d.manifest.sha256) : null)),
    ),
  ]);
  if (card && r.modelCard) {
    fromRequest('model card', r.modelCard, 'application/yaml');
    const parsed = ModelCardSchema.safeParse(parseYaml(text(card)));
    data.modelCard = parsed.success
      ? parsed.data
      : { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  }
  r.datasets.forEach((d, i) => {
    fromRequest(
      `${d.role} dataset ${d.name}`,
      d.artifact,
      d.format === 'parquet' ? 'application/vnd.apache.parquet' : 'text/csv',
    );
    const bytes = manifests[i];
    if (d.manifest) fromRequest(`${d.role} dataset ${d.name} manifest`, d.manifest, 'application/json');
    const parsed = bytes ? DatasetManifestSchema.safeParse(JSON.parse(text(bytes))) : null;
    data.manifests.push({ dataset: d, manifest: parsed?.success ? parsed.data : null });
  });

  for (const record of input.history.filter((h) => h.decision !== null)) {
    const source = record.step === null ? record.stage : `${record.stage}[${record.step}]`;
    for (const ref of record.artifacts) {
      const bytes = await evidence.getBytes(ref.key, ref.sha256);
      let value: unknown = null;
      if (ref.mediaType.startsWith('text/html')) {
        if (record.stage === 'OFFLINE_EVAL') data.offline.html = text(bytes);
      } else if (ref.mediaType.includes('json')) {
        value = JSON.parse(text(bytes));
      }
      const label = describe(value, ref);
      data.evidence.push({ label, source, key: ref.key, sha256: ref.sha256, mediaType: ref.mediaType });
      const kind = (value as { kind?: string } | null)?.kind ?? '';
      const measuredOn = (value as { source?: unknown } | null)?.source;
      if (typeof measuredOn === 'string') data.sources.push({ stage: source, kind, source: measuredOn });
      if (kind === 'vigil.change-summary/v1') data.changeSummary = value as ChangeSummaryView;
      else if (kind === 'vigil.snapshot/v1') data.snapshot = value as DossierData['snapshot'];
      else if (kind.startsWith('vigil.offline-eval/')) data.offline.report = value as OfflineReportView;
      else if (kind === 'vigil.shadow/v1') data.shadow = value as ShadowView;
      else if (kind === SHADOW_DISAGREEMENTS_KIND) data.disagreements = value as DisagreementSample;
      else if (kind === SHADOW_ADJUDICATION_KIND) data.adjudication = await adjudicationOf(evidence, value);
      else if (label === 'attestation (DSSE)') {
        const env = value as { payload?: unknown; signatures?: { keyid?: string }[] };
        data.attestations.push({
          predicateType: statementOf(env)?.predicateType ?? 'unknown',
          keyIds: (env.signatures ?? []).map((s) => s.keyid ?? ''),
          ref,
        });
      }
    }
  }
  for (const s of input.signatures ?? []) {
    data.evidence.push({
      label: `signature: ${s.printedName} (${s.role})`,
      source: 'AWAITING_APPROVAL',
      key: s.evidence.key,
      sha256: s.evidence.sha256,
      mediaType: s.evidence.mediaType,
    });
    if (s.withdrawal) {
      const w = s.withdrawal.evidence;
      data.evidence.push({
        label: `withdrawal: ${s.printedName} (${s.role})`,
        source: 'AWAITING_APPROVAL',
        key: w.key,
        sha256: w.sha256,
        mediaType: w.mediaType,
      });
    }
  }
  return data;
}
