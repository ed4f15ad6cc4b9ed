import { evaluationStatement, signStatement } from '../attestation';
import type { EvidenceRef } from '../domain';
import {
  buildFdaModelCard,
  collectDossier,
  DOSSIER_CSS,
  renderDossierHtml,
  renderFdaModelCardHtml,
  type DossierData,
  type DossierInput,
} from '../dossier';
import type { EvidencePort } from '../contracts/ports';
import type { ActivityDeps } from './deps';

export const DOSSIER_KIND = 'vigil.dossier/v2';

/**
 * The signed evaluation statement: the acceptance policy's digest is the pre-registration, the stored
 * report's digest the measurements. Ed25519 is deterministic, so rebuilding the dossier re-signs the same bytes.
 */
async function attestEvaluation(
  evidence: EvidencePort,
  signer: ActivityDeps['signer'],
  d: DossierData,
): Promise<EvidenceRef | null> {
  const { request: r, policySha256 } = d.input;
  const offline = d.input.history.find((h) => h.stage === 'OFFLINE_EVAL' && h.decision);
  const report = offline?.artifacts.find((a) =>
    d.evidence.some((e) => e.sha256 === a.sha256 && e.label.startsWith('vigil.offline-eval/')),
  );
  const datasets = r.datasets.flatMap((x) =>
    x.role === 'evaluation' && x.manifest ? [{ name: x.name, role: x.role, manifestSha256: x.manifest.sha256 }] : [],
  );
  if (!offline?.decision || !offline.endedAt || !report || datasets.length === 0) return null;
  const statement = evaluationStatement(
    { name: `${r.modelName}@${r.candidate.version}`, sha256: r.candidate.artifact.sha256 },
    {
      preRegistration: {
        policyId: r.policy.id,
        policyVersion: r.policy.version,
        policyDigest: { sha256: policySha256 },
        registeredAt: r.policy.registeredAt,
      },
      datasets,
      incumbent: { name: `${r.modelName}@${r.incumbent.version}`, digest: { sha256: r.incumbent.artifact.sha256 } },
      result: {
        outcome: offline.decision.verdict === 'pass' ? 'pass' : 'fail',
        reasons: offline.decision.reasons,
        measurementsDigest: { sha256: report.sha256 },
      },
      evaluatedAt: offline.endedAt,
    },
  );
  return evidence.putJson(await signStatement(statement, [signer]));
}

const refOf = (ref: EvidenceRef) => ({ key: ref.key, sha256: ref.sha256, mediaType: ref.mediaType });

export function dossierActivities({ evidence, signer }: Pick<ActivityDeps, 'evidence' | 'signer'>) {
  return {
    /**
     * The dossier: a self-contained HTML page and a JSON index of every piece of evidence, both stored as
     * evidence. Returns the index: its digest is the dossier's root digest, what approvers sign.
     */
    async buildDossier(input: DossierInput): Promise<EvidenceRef> {
      const data = await collectDossier(evidence, input);
      const evaluation = await attestEvaluation(evidence, signer, data);
      if (evaluation) {
        data.attestations.push({
          predicateType: 'https://vigil.dev/evaluation/v1',
          keyIds: [signer.keyId],
          ref: evaluation,
        });
        data.evidence.push({
          label: 'attestation (DSSE)',
          source: 'dossier',
          key: evaluation.key,
          sha256: evaluation.sha256,
          mediaType: evaluation.mediaType,
        });
      }
      // The model card (FDA draft guidance structure) is evidence of its own, filled from what was just collected.
      const card = buildFdaModelCard(data);
      const modelCard = {
        json: await evidence.putJson(card),
        html: await evidence.putBytes(
          Buffer.from(renderFdaModelCardHtml(card, DOSSIER_CSS), 'utf8'),
          'text/html; charset=utf-8',
        ),
      };
      data.evidence.push(
        { label: card.kind, source: 'dossier', ...refOf(modelCard.json) },
        { label: 'model card (HTML)', source: 'dossier', ...refOf(modelCard.html) },
      );
      const html = await evidence.putBytes(
        Buffer.from(renderDossierHtml(data, card), 'utf8'),
        'text/html; charset=utf-8',
      );
      const r = input.request;
      return evidence.putJson({
        kind: DOSSIER_KIND,
        releaseId: input.releaseId,
        at: input.at,
        modelName: r.modelName,
        html,
        change: {
          reason: r.reason,
          submittedBy: r.submittedBy,
          trigger: r.trigger,
          codeCommit: r.codeCommit,
          changeClass: data.changeSummary?.changeClass ?? null,
          changed: data.changeSummary?.dimensions.filter((x) => x.changed).map((x) => x.dimension) ?? null,
        },
        candidate: r.candidate,
        incumbent: r.incumbent,
        rollbackTarget: r.incumbent,
        datasets: r.datasets,
        modelCard: r.modelCard ?? null,
        modelCardRecord: modelCard,
        policy: { id: r.policy.id, version: r.policy.version, sha256: input.policySha256 },
        stages: input.history
          .filter((h) => h.decision !== null)
          .map((h) => ({
            stage: h.stage,
            step: h.step,
            decision: h.decision,
            evidence: h.artifacts,
            chainEntry: h.chainEntry,
          })),
        signatures: (input.signatures ?? []).map((s) => ({ ...s })),
        attestations: data.attestations.map((a) => ({
          predicateType: a.predicateType,
          keyIds: a.keyIds,
          evidence: a.ref,
        })),
        evidence: data.evidence,
        chainHead: input.chainHead,
      });
    },
  };
}
