import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { interfaceForVersion } from '../domain/model-interface';
import { ModelCardSchema, type ModelCard } from '../domain/model-card';
import { loadScorer, modelFormatOf } from '../models';
import { inProcessBackend, RemoteOipBackend, type Backend, type ModelBackends } from './backends';
import { GatewayRouteTableSchema, type GatewayRouteTable } from './routing';

const VersionSchema = z.union([
  z.object({ file: z.string().min(1) }).strict(),
  z
    .object({
      url: z.url(),
      remoteModel: z.string().min(1),
      inputName: z.string().min(1).optional(),
      outputName: z.string().min(1).optional(),
      timeoutMs: z.number().int().positive().optional(),
    })
    .strict(),
]);

/** VIGIL_GATEWAY_MODELS: which versions the gateway loads (files are resolved relative to the models file). */
export const ModelsFileSchema = z
  .object({
    models: z.record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/),
      z
        .object({
          /**
           * A model card (YAML/JSON, relative to this file) whose `interface` says how to feed and read the ONNX
           * versions (feature order, input, score output; per version via `interface.versions`), as a release's card
           * does: a stock skl2onnx export carries no feature names of its own.
           */
          modelCard: z.string().min(1).optional(),
          /** Input contract; default: the features of the first in-process version. */
          features: z.array(z.string().min(1)).min(1).optional(),
          versions: z.record(z.string().min(1).max(64), VersionSchema),
          /** Table used until the route store or the control API provides one. */
          routes: GatewayRouteTableSchema.optional(),
          /**
           * Per feature, the value its input sketch is taken around, e.g. the locked reference's median: needed for
           * features far from zero for their spread (sodium ≈ 140 ± 3), whose drift is otherwise not compared.
           * Every gateway serving the model must use the same centres (sketches of different centres do not merge).
           */
          sketchCentres: z.record(z.string().min(1), z.number()).optional(), // zod 4's number() refuses ±Infinity and NaN
        })
        .strict(),
    ),
  })
  .strict();

export async function loadModelsFile(
  file: string,
): Promise<Array<ModelBackends & { initialRoutes: GatewayRouteTable | undefined }>> {
  const doc = ModelsFileSchema.parse(YAML.parse(fs.readFileSync(file, 'utf8')));
  const base = path.dirname(path.resolve(file));
  const out: Array<ModelBackends & { initialRoutes: GatewayRouteTable | undefined }> = [];
  for (const [name, m] of Object.entries(doc.models)) {
    const versions = new Map<string, Backend>();
    let features: readonly string[] | undefined = m.features;
    const card = m.modelCard ? readModelCard(path.resolve(base, m.modelCard), name) : undefined;
    for (const [version, v] of Object.entries(m.versions)) {
      if ('file' in v) {
        const p = path.resolve(base, v.file);
        const onnx = card && modelFormatOf(p) === 'onnx' ? { onnx: interfaceForVersion(card, version) } : {};
        const scorer = await loadScorer(fs.readFileSync(p), p, onnx).catch((err: Error) => {
          throw new Error(`model "${name}" version ${version} (${p}): ${err.message}`, { cause: err });
        });
        features ??= scorer.features;
        versions.set(version, inProcessBackend(version, scorer));
      } else {
        versions.set(
          version,
          new RemoteOipBackend({
            url: v.url,
            model: v.remoteModel,
            version,
            inputName: v.inputName,
            outputName: v.outputName,
            timeoutMs: v.timeoutMs,
          }),
        );
      }
    }
    if (!features) throw new Error(`model "${name}": give "features" (no in-process version to read them from)`);
    const unknown = Object.keys(m.sketchCentres ?? {}).filter((f) => !features.includes(f));
    if (unknown.length)
      throw new Error(
        `model "${name}": sketchCentres names ${unknown.map((f) => `"${f}"`).join(', ')}, not among its features (${features.join(', ')})`,
      );
    out.push({
      name,
      features,
      versions,
      initialRoutes: m.routes,
      ...(m.sketchCentres ? { sketchCentres: m.sketchCentres } : {}),
    });
  }
  return out;
}

/** A models file's model card: parsed as a release's card is, its errors naming the file. */
function readModelCard(file: string, model: string): ModelCard {
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`model "${model}": cannot read its model card ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ModelCardSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `model "${model}": model card ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(card)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
