/** `vigil model register`: make the model production serves today known to Vigil (docs/own-model.md). */
import type { Command } from 'commander';
import { EvidenceError } from '../../evidence';
import { S3RouteStore } from '../../gateway/route-store';
import { planRegistration, registerModel, ReleaseFileError, UNRECORDED_COMMIT } from '../../release-files';
import { Exit, UsageError, type CliContext } from '../context';
import { storeFrom } from './store';

type RegisterFlags = {
  model: string;
  version: string;
  file: string;
  card: string;
  data: string[];
  lineage: string[];
  codeCommit?: string;
  json?: boolean;
};

const collect = (v: string, prev: string[]) => [...prev, v];

/** Registers `vigil model …`. */
export function registerModelCommands(program: Command, ctx: CliContext): void {
  const model = program.command('model').description('models production serves (VIGIL_S3_*; see docs/own-model.md)');
  model
    .command('register')
    .description(
      "register the version production serves today (a model's first release, or one deployed before Vigil): upload it and its model card, record its provenance (what the next release's change summary compares with) and name it production in the route store if no version is",
    )
    .requiredOption('--model <name>', 'model name, as in release.yaml (modelName)')
    .requiredOption('--version <v>', 'the version production serves')
    .requiredOption('--file <model>', 'the model file production serves (.onnx)')
    .requiredOption('--card <model-card.yaml>', 'the model card; its interface must load the model')
    .option(
      '--data <[name=]file>',
      'training data of this model (repeatable); name defaults to <model>-<file name>',
      collect,
      [],
    )
    .option(
      '--lineage <file>',
      "the training data's lineage (repeatable): label policy and feature definitions",
      collect,
      [],
    )
    .option('--code-commit <sha>', `the 40-character commit of its training code (default: "${UNRECORDED_COMMIT}")`)
    .option('--json', 'print machine-readable JSON only')
    .action(async (o: RegisterFlags) => {
      let plan;
      try {
        plan = planRegistration({
          modelName: o.model,
          version: o.version,
          file: o.file,
          card: o.card,
          data: o.data,
          lineage: o.lineage,
          ...(o.codeCommit ? { codeCommit: o.codeCommit } : {}),
        });
      } catch (e) {
        if (e instanceof ReleaseFileError) throw new UsageError(e.message);
        throw e;
      }
      const store = storeFrom(ctx.io.env);
      let result;
      try {
        result = await registerModel(plan, store.evidence, new S3RouteStore(store.s3, store.bucket));
      } catch (err) {
        ctx.io.stderr(
          `vigil: ${err instanceof EvidenceError ? err.message : `evidence store: ${(err as Error).message}`}\n`,
        );
        return ctx.setExit(Exit.failed);
      }
      if (!result.ok) {
        if (o.json) ctx.printJson(result);
        else ctx.io.stderr(`vigil: refused: ${result.reason}\n`);
        return ctx.setExit(Exit.refused);
      }
      if (o.json) return ctx.printJson({ modelName: plan.modelName, version: plan.version, ...result });
      const r = plan.record;
      ctx.print(
        [
          `registered ${plan.modelName} ${plan.version} (${result.model.key}); it ${plan.model.describe}`,
          `provenance ${result.record === 'written' ? 'recorded' : 'already recorded'}: code ${r.codeCommit}, ` +
            `training data ${r.trainingData.map((d) => d.name).join(', ') || '(none given)'}, ` +
            `label policy ${r.labelPolicyVersions.join(', ') || '(none given)'}`,
          result.production === 'set'
            ? `production of ${plan.modelName} is now ${plan.version} (route store)`
            : `production of ${plan.modelName} already serves ${plan.version}`,
          `registration evidence ${result.registration.key}`,
        ].join('\n'),
      );
    });
}
