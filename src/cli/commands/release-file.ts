/** `vigil release start -f release.yaml [--dry-run]`: check offline, upload what the store lacks, start. */
import { planRelease, ReleaseFileError, uploadMissing, type ReleasePlan } from '../../release-files';
import { UsageError, type CliContext } from '../context';
import { humanBytes, storeFrom } from './store';

/** Check, upload and start (or, dry, only check and say what would happen). */
export async function startFromReleaseFile(
  ctx: CliContext,
  file: string,
  opts: { dryRun: boolean; json: boolean },
): Promise<void> {
  let plan: ReleasePlan;
  try {
    plan = await planRelease(file);
  } catch (e) {
    if (e instanceof ReleaseFileError) throw new UsageError(e.message);
    throw e;
  }
  const summary = planSummary(plan);
  if (opts.dryRun) {
    if (opts.json) return ctx.printJson({ dryRun: true, ...summary, request: plan.request });
    ctx.print(
      [
        ...checkLines(plan),
        `would upload (objects the store lacks; each is create-only at its digest):`,
        ...plan.uploads.map((u) => `  ${u.key}  ${humanBytes(u.size).padStart(9)}  ${u.what}`),
        `would start release ${plan.releaseId}`,
      ].join('\n'),
    );
    return;
  }
  const store = storeFrom(ctx.io.env);
  const say = (t: string) => (opts.json ? ctx.io.stderr(`${t}\n`) : ctx.print(t));
  if (!opts.json) checkLines(plan).forEach(say);
  const up = await uploadMissing(plan.uploads, store, (p) => {
    if (p.state === 'uploading') say(`[${p.index}/${p.total}] uploading ${p.what} (${humanBytes(p.size)}) …`);
    else if (p.state === 'stored') say(`[${p.index}/${p.total}] stored ${p.key}`);
    else if (p.state === 'present') say(`[${p.index}/${p.total}] already stored: ${p.what}`);
  });
  const res = await ctx.client().startRelease(plan.request);
  if (opts.json) return ctx.printJson({ ...summary, uploaded: up.stored, alreadyStored: up.present, ...res });
  ctx.print(
    res.started
      ? `started release ${res.releaseId} (run ${res.runId})`
      : `release ${res.releaseId} is already running (run ${res.runId})`,
  );
}

function planSummary(plan: ReleasePlan) {
  return {
    releaseId: plan.releaseId,
    policySha256: plan.policySha256,
    scoreChecks: plan.scoreChecks,
    missingProvenance: plan.missingProvenance,
    uploads: plan.uploads.map(({ what, file, key, sha256, size, mediaType }) => ({
      what,
      file,
      key,
      sha256,
      size,
      mediaType,
    })),
  };
}

function checkLines(plan: ReleasePlan): string[] {
  const r = plan.request;
  return [
    `release file checked: ${r.modelName} ${r.candidate.version} (candidate) replacing ${r.incumbent.version} (incumbent)`,
    `policy ${r.policy.id} ${r.policy.version}, digest ${plan.policySha256}`,
    ...plan.scoreChecks.map(
      (c) =>
        `model ${c.model} scores ${c.rows} evaluation rows (min ${c.min.toFixed(4)}, mean ${c.mean.toFixed(4)}, max ${c.max.toFixed(4)})`,
    ),
    ...plan.missingProvenance.map(
      (m) => `warning: dataset ${m.dataset} lacks provenance SNAPSHOT requires: ${m.fields.join(', ')}`,
    ),
  ];
}
