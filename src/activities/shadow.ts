/**
 * SHADOW's activities: the candidate on mirrored production traffic (nothing it says reaches care), measured by the
 * worker's live source and compared with production clinically; reviewers' adjudications of the sampled
 * disagreements recorded one by one, then tallied when the review closes. Histories get aggregates and evidence
 * refs only; case-level data stays in the evidence store.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { LiveSource, ObserveShadowInput, StageOutput } from '../contracts/live-source';
import {
  ADJUDICATION_KIND,
  SHADOW_ADJUDICATION_KIND,
  SHADOW_DISAGREEMENTS_KIND,
  type DisagreementSample,
} from '../contracts/shadow-records';
import {
  ErrorType,
  type AdjudicationInput,
  type EvidenceRef,
  type ReleaseRequest,
  type ShadowMeasurement,
} from '../domain';
import { tallyAdjudications } from '../judging';
import type { ActivityDeps } from './deps';

export { ADJUDICATION_KIND, SHADOW_ADJUDICATION_KIND, SHADOW_DISAGREEMENTS_KIND, type DisagreementSample };

export function shadowActivities({ evidence, live }: Pick<ActivityDeps, 'evidence'> & { live: LiveSource }) {
  return {
    /**
     * Candidate and production on mirrored traffic, compared; the disagreement sample when adjudication is
     * configured. Measured by the worker's live source (src/activities/live-source).
     */
    async observeShadow(input: ObserveShadowInput): Promise<StageOutput<ShadowMeasurement>> {
      return live.shadow(input);
    },

    /** One reviewer's judgement of one sampled disagreement, recorded before it counts. */
    async recordAdjudication(input: {
      releaseId: string;
      sample: EvidenceRef;
      adjudication: AdjudicationInput & { at: string };
    }): Promise<EvidenceRef> {
      const sample = JSON.parse(
        Buffer.from(await evidence.getBytes(input.sample.key, input.sample.sha256)).toString('utf8'),
      ) as DisagreementSample;
      const a = input.adjudication;
      const c = sample.cases.find((x) => x.sampleId === a.sampleId);
      if (!c)
        throw ApplicationFailure.nonRetryable(
          `sample ${input.sample.key} has no case ${a.sampleId}`,
          ErrorType.UnknownSample,
        );
      return evidence.putJson({
        kind: ADJUDICATION_KIND,
        releaseId: input.releaseId,
        sample: { key: input.sample.key, sha256: input.sample.sha256 },
        sampleId: a.sampleId,
        caseIdHash: c.caseIdHash,
        site: c.site,
        direction: c.direction,
        reviewer: a.reviewer,
        printedName: a.printedName,
        role: a.role,
        verdict: a.verdict,
        comment: a.comment,
        at: a.at,
        ...(a.authentication ? { authentication: a.authentication } : {}),
      });
    },

    /**
     * The adjudication window has closed: tally the recorded adjudications (read back from the evidence store, not
     * taken from the workflow) into the measurement the gate is judged on, and record the summary.
     */
    async closeShadowReview(input: {
      releaseId: string;
      request: ReleaseRequest;
      measurement: ShadowMeasurement;
      adjudications: EvidenceRef[];
      deadline: string;
      at: string;
    }): Promise<StageOutput<ShadowMeasurement>> {
      const sample = input.measurement.disagreements?.sample ?? null;
      const votes: Array<{
        sampleId: string;
        verdict: 'candidate' | 'production' | 'unclear';
        reviewer: string;
        record: string;
      }> = [];
      for (const ref of input.adjudications) {
        const r = JSON.parse(Buffer.from(await evidence.getBytes(ref.key, ref.sha256)).toString('utf8')) as {
          kind: string;
          releaseId: string;
          sample: { sha256: string };
          sampleId: string;
          verdict: 'candidate' | 'production' | 'unclear';
          reviewer: string;
        };
        if (r.kind !== ADJUDICATION_KIND || r.releaseId !== input.releaseId || r.sample.sha256 !== sample?.sha256) {
          throw ApplicationFailure.nonRetryable(
            `${ref.key} is not an adjudication of this release's disagreement sample`,
            ErrorType.EvidenceIntegrity,
          );
        }
        votes.push({ sampleId: r.sampleId, verdict: r.verdict, reviewer: r.reviewer, record: ref.key });
      }
      const tally = tallyAdjudications(votes, input.measurement.disagreements?.sampled ?? 0, input.deadline);
      const ref = await evidence.putJson({
        kind: SHADOW_ADJUDICATION_KIND,
        releaseId: input.releaseId,
        at: input.at,
        sample,
        policy: input.request.policy.shadow.adjudication ?? null,
        rule: 'per case: majority of candidate / production votes (unclear abstains; a tie is unclear); share = production right / (candidate right + production right)',
        tally,
        votes,
        adjudications: input.adjudications,
      });
      return { measurement: { ...input.measurement, adjudication: tally }, artifacts: [ref] };
    },
  };
}
