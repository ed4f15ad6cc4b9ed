/**
 * Dataset manifests for the demo data, derived with the provenance builder from demo/data/*.csv and the
 * hand-written demo/lineage/*.yaml. `npm run demo:data` rewrites them; test/unit/dossier-demo.test.ts checks
 * the committed files are current.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DatasetLineageSchema } from '../domain/dataset-manifest';
import { buildDatasetManifest } from '../provenance/manifest-builder';

export const DEMO_DATASETS = ['training', 'evaluation'] as const;

/**
 * The demo's split key: a documented stand-in, like the demo's code commit. Real split keys are secrets
 * supplied at build time (`vigil dataset manifest --split-key`).
 */
export const DEMO_SPLIT_KEY = { keyId: 'vigil-demo-split-key', secret: createHash('sha256').update('vigil-demo-split-key').digest() };

export const manifestFile = (name: (typeof DEMO_DATASETS)[number]) => `manifests/${name}.manifest.json`;

/** File name (under demo/) → manifest text (pretty JSON; its canonical form is what releases pin). */
export async function demoManifestFiles(demoDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of DEMO_DATASETS) {
    const lineageFile = path.join(demoDir, 'lineage', `${name}.yaml`);
    const lineage = DatasetLineageSchema.parse(parseYaml(await readFile(lineageFile, 'utf8')));
    const { manifest } = await buildDatasetManifest({
      dataFile: path.join(demoDir, 'data', `${name}.csv`),
      lineage,
      lineageDir: path.dirname(lineageFile),
      splitKey: DEMO_SPLIT_KEY,
    });
    out[manifestFile(name)] = `${JSON.stringify(manifest, null, 2)}\n`;
  }
  return out;
}
