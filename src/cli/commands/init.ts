/** `vigil init <model.onnx> <data.csv>`: scaffold a release folder (docs/own-model.md). */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ReleaseFileError, scaffoldRelease } from '../../release-files';
import { writeFileAtomic } from '../../provenance/files';
import { Exit, UsageError, type CliContext } from '../context';

type InitOptions = {
  dir: string;
  incumbent?: string;
  training?: string;
  name?: string;
  version: string;
  incumbentVersion: string;
  label?: string;
  caseId?: string;
  patientId?: string;
  force?: boolean;
  json?: boolean;
};

/** Registers `vigil init`. */
export function registerInitCommand(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description(
      'scaffold a release folder from a model and a CSV: policy (pre-registered criteria and their digest), dataset schema, lineage, model card with the detected interface, release.yaml',
    )
    .argument('<model>', 'the candidate model (.onnx)')
    .argument('<data>', 'the evaluation data (.csv with a case id column, feature columns and a 0/1 label)')
    .option('--dir <folder>', 'where to write the release folder', 'vigil-release')
    .option('--incumbent <model>', 'the model production serves today (.onnx)')
    .option(
      '--training <data>',
      "the candidate's training data (.csv with the same columns): a training dataset and its lineage",
    )
    .option('--name <model-name>', 'model name (lowercase letters, digits, "-"; default from the model file)')
    .option('--version <v>', "the candidate's version", '2.0.0')
    .option('--incumbent-version <v>', "the incumbent's version", '1.0.0')
    .option('--label <column>', 'the 0/1 outcome column (default: label)')
    .option('--case-id <column>', 'the case id column (default: case_id)')
    .option('--patient-id <column>', 'the patient id column (default: patient_id when present)')
    .option('--force', 'overwrite files that exist')
    .option('--json', 'print machine-readable JSON only')
    .action((model: string, data: string, o: InitOptions) => {
      for (const [f, what] of [
        [model, 'model'],
        [data, 'data file'],
        ...(o.incumbent ? [[o.incumbent, 'incumbent']] : []),
        ...(o.training ? [[o.training, 'training data']] : []),
      ]) {
        if (!fs.existsSync(f!)) throw new UsageError(`${what} not found: ${f}`);
      }
      const modelName = o.name ?? slug(path.basename(model).replace(/\.[^.]+$/, ''));
      let scaffold;
      try {
        scaffold = scaffoldRelease({
          model,
          data,
          ...(o.incumbent ? { incumbent: o.incumbent } : {}),
          ...(o.training ? { training: o.training } : {}),
          dir: o.dir,
          modelName,
          version: o.version,
          incumbentVersion: o.incumbentVersion,
          ...(o.label ? { label: o.label } : {}),
          ...(o.caseId ? { caseId: o.caseId } : {}),
          ...(o.patientId ? { patientId: o.patientId } : {}),
        });
      } catch (e) {
        if (e instanceof ReleaseFileError) throw new UsageError(e.message);
        throw e;
      }
      const existing = Object.keys(scaffold.files).filter((f) => fs.existsSync(path.join(o.dir, f)));
      if (existing.length && !o.force)
        throw new UsageError(`${o.dir} already has ${existing.join(', ')}; use --force to overwrite`);
      for (const [name, text] of Object.entries(scaffold.files)) {
        fs.mkdirSync(path.dirname(path.join(o.dir, name)), { recursive: true });
        writeFileAtomic(path.join(o.dir, name), text);
      }
      if (o.json)
        return ctx.printJson({
          dir: o.dir,
          files: Object.keys(scaffold.files),
          policySha256: scaffold.policySha256,
          features: scaffold.features,
          detected: scaffold.detected,
        });
      ctx.print(
        [
          `wrote ${Object.keys(scaffold.files)
            .map((f) => path.join(o.dir, f))
            .join(', ')}`,
          `features        ${scaffold.features.length} columns of ${data}`,
          ...Object.entries(scaffold.detected).map(([v, d]) => `model ${v}`.padEnd(16) + `scores ${d}`),
          `policy digest   ${scaffold.policySha256}  (record it before training; release.yaml pins it)`,
          `next: complete the TODOs, then  vigil release start -f ${path.join(o.dir, 'release.yaml')} --dry-run`,
        ].join('\n'),
      );
      ctx.setExit(Exit.ok);
    });
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48) || 'model';
