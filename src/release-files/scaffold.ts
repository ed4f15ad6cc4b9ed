/**
 * `vigil init`: a release folder from a model and a CSV. The loader inspects the model (which input, which
 * output and class is the score) with the CSV's columns as its features; the folder gets a policy with
 * pre-registered criteria (and the digest to record before training), a dataset schema, a lineage to complete,
 * a model card carrying the detected interface, and a release file naming them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readCsvRecords } from '../data/csv-records';
import { Document, isMap, isPair, isScalar, stringify as toYaml } from 'yaml';
import { ReleasePolicySchema, type ModelInterface } from '../domain';
import { policyDigest } from '../evidence';
import { ModelFormatError, planOnnxInterface } from '../models';
import { decodeGraph } from '../models/onnx-proto';
import { sketchResolves } from '../stats/log-sketch';
import { ReleaseFileError } from './plan';

export interface ScaffoldOptions {
  model: string;
  data: string;
  /** The model production serves today; without one, the candidate's own file is named and must be replaced. */
  incumbent?: string;
  /** The candidate's training data (a CSV with the evaluation data's columns): a training dataset and its lineage. */
  training?: string;
  dir: string;
  modelName: string;
  version: string;
  incumbentVersion: string;
  label?: string;
  caseId?: string;
  patientId?: string;
  /** Registration time of the criteria (default: now). */
  now?: Date;
}

export interface Scaffold {
  files: Record<string, string>;
  policySha256: string;
  features: string[];
  detected: Record<string, string>;
}

/** The files of a release folder (name → text); nothing is written. Throws ReleaseFileError. */
export function scaffoldRelease(o: ScaffoldOptions): Scaffold {
  const rows = readCsv(o.data);
  const header = rows[0] ?? [];
  const pick = (given: string | undefined, fallback: string, what: string): string => {
    const col = given ?? fallback;
    if (!header.includes(col))
      throw new ReleaseFileError(
        `${o.data} has no ${what} column "${col}" (columns: ${header.join(', ')}); name it with --${what.replace(' ', '-')}`,
      );
    return col;
  };
  const label = pick(o.label, 'label', 'label');
  const caseId = pick(o.caseId, 'case_id', 'case id');
  const patientId = o.patientId ?? (header.includes('patient_id') ? 'patient_id' : undefined);
  const features = header.filter((c) => c !== label && c !== caseId && c !== patientId);
  const labelAt = header.indexOf(label);
  const bad = rows.slice(1).findIndex((r) => r[labelAt] !== '0' && r[labelAt] !== '1');
  if (bad >= 0)
    throw new ReleaseFileError(
      `label column "${label}" must hold 0 or 1; row ${bad + 1} has "${rows[bad + 1]![labelAt]}"`,
    );

  const models = [
    { file: o.model, version: o.version },
    ...(o.incumbent ? [{ file: o.incumbent, version: o.incumbentVersion }] : []),
  ];
  const versions: Record<string, ModelInterface> = {};
  const detected: Record<string, string> = {};
  for (const m of models) {
    let plan;
    try {
      plan = planOnnxInterface(decodeGraph(fs.readFileSync(m.file)), { features });
    } catch (e) {
      const why = e instanceof ModelFormatError ? e.message : (e as Error).message;
      throw new ReleaseFileError(`${m.file} with the ${features.length} feature columns of ${o.data}: ${why}`);
    }
    detected[m.version] = plan.describe;
    const positive = plan.classes && plan.column !== null ? plan.classes[plan.column] : undefined;
    versions[m.version] = {
      output: { ...(positive !== undefined ? { positiveClass: positive } : {}), scale: plan.scale },
    };
  }

  const training = o.training ? readTraining(o.training, o.data, header, labelAt) : undefined;

  const rel = (f: string) => path.relative(o.dir, path.resolve(f)) || '.';
  const registeredAt = (o.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const prevalence = rows.slice(1).filter((r) => r[labelAt] === '1').length / Math.max(1, rows.length - 1);
  const policy = ReleasePolicySchema.parse(policyTemplate(o.modelName, registeredAt, prevalence));
  const policySha256 = policyDigest(policy);
  const dataset = path.basename(o.data).replace(/\.[^.]+$/, '');
  const trainingName = o.training ? path.basename(o.training).replace(/\.[^.]+$/, '') : undefined;
  if (trainingName === dataset)
    throw new ReleaseFileError(`the training and evaluation files are both named ${dataset}: rename one`);
  const split = patientId ? { column: patientId, keyId: `${o.modelName}-split` } : undefined;
  const files: Record<string, string> = {
    'policy.yaml':
      `# Pre-registered before training: record the digest below (the release file pins it) and do not edit after.\n` +
      `# policy digest: ${policySha256}\n` +
      policyYaml(policy),
    'dataset-schema.json': `${JSON.stringify(datasetSchema(caseId, patientId, features, label), null, 2)}\n`,
    [`lineage/${dataset}.yaml`]: lineageTemplate(dataset, rows.length - 1, split, 'evaluation'),
    ...(training && trainingName
      ? { [`lineage/${trainingName}.yaml`]: lineageTemplate(trainingName, training.rows, split, 'training') }
      : {}),
    'model-card.yaml':
      `# Model card (ModelCardSchema). Complete the text fields; \`interface\` is what the loader detected:\n` +
      Object.entries(detected)
        .map(([v, d]) => `#   ${v}: ${d}\n`)
        .join('') +
      toYaml(
        {
          model: o.modelName,
          intendedUse: 'TODO: what the model estimates, for whom, and what it is used for',
          population: 'TODO: the setting, inclusion and exclusion criteria',
          limitations: ['TODO: where performance has not been established'],
          interface: { features, versions },
        },
        { lineWidth: 120 },
      ),
    'gateway-models.yaml': gatewayModelsYaml(o, rel, sketchCentres(rows, features), rows),
    'release.yaml':
      `# yaml-language-server: $schema=${rel(path.resolve(__dirname, '../../schemas/release-file.schema.json'))}\n` +
      toYaml(
        {
          modelName: o.modelName,
          candidate: { version: o.version, model: rel(o.model), trainingStartedAt: registeredAt },
          incumbent: { version: o.incumbentVersion, model: rel(o.incumbent ?? o.model) },
          modelCard: 'model-card.yaml',
          policy: { path: 'policy.yaml', sha256: policySha256 },
          datasets: [
            ...(o.training && trainingName
              ? [
                  {
                    role: 'training',
                    name: `${o.modelName}-${trainingName}`.slice(0, 128),
                    data: rel(o.training),
                    schema: 'dataset-schema.json',
                    lineage: `lineage/${trainingName}.yaml`,
                    ...(patientId ? { splitKey: 'split.key' } : {}),
                  },
                ]
              : []),
            {
              role: 'evaluation',
              name: `${o.modelName}-${dataset}`.slice(0, 128),
              data: rel(o.data),
              schema: 'dataset-schema.json',
              lineage: `lineage/${dataset}.yaml`,
              ...(patientId ? { splitKey: 'split.key' } : {}),
            },
          ],
          change: {
            reason: 'TODO: what changed and why',
            submittedBy: 'TODO: your user id',
            codeCommit: 'TODO: the 40-character git commit of the training code',
          },
        },
        { lineWidth: 120 },
      ),
  };
  return { files, policySha256, features, detected };
}

/**
 * Each feature's median in the evaluation data: the centre the gateway's input sketches are taken around, so that
 * features far from zero for their spread (a radius of 13.4 ± 3.5) are sketched finely enough for SHADOW's drift check.
 */
function sketchCentres(rows: string[][], features: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of features) {
    const xs = sortedColumn(rows, f);
    if (xs.length === 0) continue;
    const m = xs.length >> 1;
    out[f] = xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
  }
  return out;
}

/** A numeric column's finite values, ascending. */
function sortedColumn(rows: string[][], column: string): number[] {
  const at = (rows[0] ?? []).indexOf(column);
  return rows
    .slice(1)
    .map((r) => Number(r[at]))
    .filter(Number.isFinite)
    .sort((x, y) => x - y);
}

/** The gateway's default relative accuracy of its input sketches (VIGIL_GATEWAY_SKETCH_ALPHA). */
const DEFAULT_SKETCH_ALPHA = 0.01;

/**
 * The coarsest sketch accuracy (of the default and three finer ones) whose sketches around `centres` resolve every
 * feature's decile bins in the evaluation data (src/stats/log-sketch.ts sketchResolves); null: none does.
 */
function sketchAlphaFor(rows: string[][], centres: Record<string, number>): number | null {
  const columns = Object.entries(centres).map(([f, centre]) => ({ centre, xs: sortedColumn(rows, f) }));
  for (const alpha of [DEFAULT_SKETCH_ALPHA, 0.005, 0.002, 0.001])
    if (columns.every((c) => sketchResolves(c.xs, alpha, { centre: c.centre }))) return alpha;
  return null;
}

/**
 * The inference gateway's models file for the stack (`--models`): both versions, read through the model card's
 * interface, production on the incumbent (route-table version 0: the route store's first table replaces it), input
 * sketches centred on the evaluation data's medians.
 */
function gatewayModelsYaml(
  o: ScaffoldOptions,
  rel: (f: string) => string,
  centres: Record<string, number>,
  rows: string[][],
): string {
  const versions: Record<string, { file: string }> = { [o.version]: { file: rel(o.model) } };
  if (o.incumbent) versions[o.incumbentVersion] = { file: rel(o.incumbent) };
  const alpha = sketchAlphaFor(rows, centres);
  return (
    `# The inference gateway's models file (VIGIL_GATEWAY_MODELS; \`src/stack/main.ts --models\`): paths relative to it.\n` +
    (alpha === null || alpha >= DEFAULT_SKETCH_ALPHA
      ? ''
      : `# Start the gateway with VIGIL_GATEWAY_SKETCH_ALPHA=${alpha}: at the default ${DEFAULT_SKETCH_ALPHA}, its input sketches are too coarse\n` +
        `# for SHADOW's drift check of some features (their deciles far from the median for their spread).\n`) +
    toYaml(
      {
        models: {
          [o.modelName]: {
            modelCard: 'model-card.yaml',
            versions,
            routes: { version: 0, production: o.incumbent ? o.incumbentVersion : o.version, canary: null },
            sketchCentres: centres,
          },
        },
      },
      { lineWidth: 120 },
    )
  );
}

/** The training CSV must have the evaluation data's columns (one dataset schema describes both) and 0/1 labels. */
function readTraining(file: string, data: string, header: string[], labelAt: number): { rows: number } {
  const rows = readCsv(file);
  const got = rows[0] ?? [];
  if (got.join('\u0000') !== header.join('\u0000'))
    throw new ReleaseFileError(
      `${file} must have the columns of ${data} in the same order (one dataset schema describes both); it has ${got.join(', ')}`,
    );
  const bad = rows.slice(1).findIndex((r) => r[labelAt] !== '0' && r[labelAt] !== '1');
  if (bad >= 0)
    throw new ReleaseFileError(
      `${file}: label column "${header[labelAt]}" must hold 0 or 1; row ${bad + 1} has "${rows[bad + 1]![labelAt]}"`,
    );
  return { rows: rows.length - 1 };
}

function readCsv(file: string): string[][] {
  try {
    // the dataset reader's dialect (blank lines skipped), so the scaffold checks the file as a release reads it
    return readCsvRecords(fs.readFileSync(file));
  } catch (e) {
    throw new ReleaseFileError(
      `cannot read ${file} as CSV: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

function datasetSchema(caseId: string, patientId: string | undefined, features: string[], label: string) {
  return {
    format: 'vigil.dataset-schema/v1',
    columns: [
      { name: caseId, role: 'case_id', type: 'string' },
      ...(patientId ? [{ name: patientId, role: 'patient_id', type: 'string' }] : []),
      ...features.map((name) => ({ name, role: 'feature', type: 'number' })),
      { name: label, role: 'label', type: 'label' },
    ],
  };
}

/** Guardrails need this many labelled positives per arm; windows are sized to expect twice as many. */
const MIN_POSITIVES = 20;

/**
 * Cases a live window needs so that `share` of them (the canary arm) holds 2 × MIN_POSITIVES positives at the data's
 * prevalence, rounded up to a hundred; never below 300.
 */
export function casesFor(share: number, prevalence: number): number {
  const need = (2 * MIN_POSITIVES) / (share * Math.max(prevalence, 1e-3));
  return Math.min(1_000_000, Math.max(300, Math.ceil(need / 100) * 100));
}

/**
 * Labelled positives each arm is expected to hold over the whole canary: every step's cases split by its percent,
 * at the evaluation data's prevalence (tunes the sequential test's mixture in advance; never below 1).
 */
export function plannedPositives(
  steps: ReadonlyArray<{ percent: number; cases: number }>,
  prevalence: number,
): { treatmentPositives: number; comparatorPositives: number } {
  const sum = (share: (p: number) => number) =>
    Math.max(1, Math.round(steps.reduce((t, s) => t + s.cases * share(s.percent / 100) * prevalence, 0)));
  return { treatmentPositives: sum((p) => p), comparatorPositives: sum((p) => 1 - p) };
}

/**
 * Criteria a binary classifier can be held to before anyone has seen its results; edit before training. Live
 * windows are sized from the evaluation data's prevalence, so a canary arm can meet the guardrails' minimum.
 */
function policyTemplate(modelName: string, registeredAt: string, prevalence: number) {
  const guardrails = { maxSensitivityDrop: 0.1, maxAlertRateRatio: 1.5, minPositives: MIN_POSITIVES };
  const steps = [
    { percent: 10, bakeSeconds: 5, cases: casesFor(0.1, prevalence) },
    { percent: 50, bakeSeconds: 5, cases: casesFor(0.5, prevalence) },
  ];
  return {
    id: `${modelName}-release`.slice(0, 64),
    version: '1',
    registeredAt,
    operatingThreshold: 0.5,
    offline: {
      attributes: [],
      acceptance: {
        version: 1,
        confidenceLevel: 0.95,
        proportionInterval: 'wilson',
        criteria: [
          { id: 'auc-non-inferior', kind: 'non-inferiority', margin: 0.02, alpha: 0.025 },
          { id: 'auc-floor', kind: 'metric-threshold', metric: 'auc', bound: 'lower', op: '>=', value: 0.8 },
          { id: 'calibration', kind: 'metric-threshold', metric: 'ece', op: '<=', value: 0.1 },
        ],
      },
    },
    shadow: { durationSeconds: 5, cases: 300, minAgreement: 0.8, minKappa: 0.6, maxPsi: 0.2 },
    approval: { requiredRoles: ['qa', 'clinical'], expirySeconds: 86_400 },
    changeControl: {
      withinPlan: { allowed: ['model', 'data'] },
      requiredRoles: { withinPlan: ['qa', 'clinical'], substantial: ['qa', 'clinical', 'regulatory'] },
    },
    canary: {
      steps,
      guardrails,
      sequential: {
        alpha: 0.05,
        harmMargin: 0.05,
        planned: plannedPositives(steps, prevalence),
        minPositives: MIN_POSITIVES,
        maxAlertRateRatio: 2,
        maxExtensions: 3,
      },
    },
    monitoring: { intervals: 2, intervalSeconds: 5, cases: casesFor(1, prevalence), guardrails },
  };
}

/**
 * Why each field of the scaffolded `canary` is what it is, written above it in policy.yaml. The figures are for the
 * guide's stack (docs/own-model.md §5: 300 requests/s, outcomes ~1 s later, ~37 % positive): a 5 s bake of the 10 %
 * step holds ~150 canary cases, ~55 of them positive.
 */
const CANARY_COMMENTS: Record<string, Record<string, string>> = {
  canary: {
    steps:
      ' Each step routes `percent` of requests to the candidate for `bakeSeconds`, then is judged. Size the traffic so\n' +
      ' a bake of the first step holds minPositives labelled positives in its canary arm (`cases`: what the simulated\n' +
      " source draws per look, sized from the evaluation data's prevalence).",
    guardrails: ' Per-interval limits: used by the canary only without `sequential` below (monitoring has its own).',
    sequential:
      ' How the canary is judged: an anytime-valid sequential test of sensitivity, canary arm against the concurrent\n' +
      ' control arm, checked at every look. A step that is inconclusive (too few labelled cases) bakes again instead\n' +
      ' of rolling back, and the chance of rolling back a candidate no worse than harmMargin stays below alpha however\n' +
      ' many looks are taken (src/judging/guardrails.ts). Without it each step gets one look at its point estimate.',
  },
  sequential: {
    alpha: ' One-sided false-rollback rate over the whole canary (all steps, looks and sites together).',
    harmMargin:
      ' Harm is a sensitivity drop (control − canary) credibly beyond this. 0.05: a candidate a point or two less\n' +
      ' sensitive than production, within sampling error of its offline evaluation, is not rolled back by chance.',
    planned:
      " Labelled positives per arm expected over the whole canary (the steps' cases × percent × prevalence): tunes\n" +
      ' the test for the harm it is likely to see, fixed before the canary starts; not a minimum.',
    minPositives:
      ' Fewer cumulative labelled positives than this in either arm: inconclusive (the step bakes again), never a pass.',
    maxAlertRateRatio:
      " The canary arm's alert rate over the control's (cumulative). An operational limit, not a test: its noise\n" +
      " is not within alpha, so it is wide enough that the first step's small canary arm (~150 cases, ratio SD ~0.1)\n" +
      ' practically never trips it by chance, and still catches a candidate alerting twice as often as production.',
    maxExtensions:
      ' Inconclusive looks a step may re-bake before the canary rolls back (an unproven candidate is never promoted):\n' +
      ' 3 rides out a traffic or outcome delay of up to 15 s at the 5 s bakes.',
  },
};

/** The policy as YAML, with CANARY_COMMENTS above the canary's fields (comments do not change the digest). */
function policyYaml(policy: unknown): string {
  const doc = new Document(policy);
  const annotate = (node: unknown, comments: Record<string, string> | undefined) => {
    if (!isMap(node) || !comments) return;
    for (const item of node.items) {
      if (!isPair(item) || !isScalar(item.key)) continue;
      const text = comments[String(item.key.value)];
      if (text) item.key.commentBefore = text;
    }
  };
  const canary = doc.get('canary', true);
  annotate(canary, CANARY_COMMENTS.canary);
  if (isMap(canary)) annotate(canary.get('sequential', true), CANARY_COMMENTS.sequential);
  return doc.toString({ lineWidth: 120 });
}

/** A lineage with every field SNAPSHOT asks for, as TODOs where only the data's owner knows the answer. */
function lineageTemplate(
  dataset: string,
  rows: number,
  split0: { column: string; keyId: string } | undefined,
  role: 'training' | 'evaluation',
): string {
  const split = split0
    ? `    split:   # patient-level split by keyed HMAC of the patient id; the key file (split.key) is never uploaded
      patientIdColumn: ${JSON.stringify(split0.column)}
      keyId: ${split0.keyId}
      proportions: { ${role}: 1 }
`
    : '';
  return `# Lineage of ${dataset} (schemas/dataset-lineage.schema.json). Replace every TODO; SNAPSHOT lists what is missing.
dataset:
  name: ${dataset}
  version: "1"
  description: TODO what the data is
sources:
  - id: source-1
    system: TODO the system the records came from
    extraction:
      query: TODO the query or export that produced the file
      queryVersion: TODO
    collectionWindow: { start: "2020-01-01", end: "2020-12-31" }
steps:
  - kind: extraction
    sourceIds: [source-1]
    outputCount: ${rows}
  - kind: filtering
    inputCount: ${rows}
    exclusionRules:
      - { id: none, description: TODO the exclusion rules applied (or state that none were), removedCount: 0 }
    outputCount: ${rows}
  - kind: labelling
    labelPolicyVersion: TODO
    labellerQualification: TODO who assigned the labels
    adjudicationRule: TODO e.g. "single recorded diagnosis, no second reader"
    # Where the labels come from. One label per case: registry-diagnosis, single-reader or outcome-derived (no
    # inter-rater agreement exists, and the dossier says so). Several readers: multi-reader or adjudicated-panel,
    # and name raterLabelsFile (a CSV subject,rater,label; Vigil computes the agreement). Or other.
    labelSource:
      kind: single-reader
      description: TODO who or what made the labels (system, role, criteria)
  - kind: assembly
    samplingLogic: TODO how rows were chosen and split
${split}`;
}
