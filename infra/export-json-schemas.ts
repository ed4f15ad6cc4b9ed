/**
 * Regenerate the committed JSON Schemas under schemas/ (editor support for policy and lineage authors):
 *   node --import tsx infra/export-json-schemas.ts
 * test/unit/report-html.test.ts fails when the committed files drift from the zod schemas.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { datasetLineageJsonSchema, datasetManifestJsonSchema } from '../src/domain/dataset-manifest';
import { fdaModelCardJsonSchema } from '../src/domain/fda-model-card';
import { ReleasePolicySchema } from '../src/domain/policy';
import { ReleaseFileSchema } from '../src/domain/release-file';
import { acceptancePolicyJsonSchema } from '../src/evaluation';

export const SCHEMAS_DIR = path.resolve(__dirname, '..', 'schemas');

/** Release policy as authors write it: io 'input' makes defaulted fields (monitoring.intervalsPerRun) optional. */
export function releasePolicyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ReleasePolicySchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Vigil release policy',
  } as Record<string, unknown>;
}

/** The release file (`vigil release start -f`) as authors write it. */
export function releaseFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ReleaseFileSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'Vigil release file',
  } as Record<string, unknown>;
}

/** File name → exact file content (pretty-printed JSON, trailing newline). */
export function jsonSchemaFiles(): Record<string, string> {
  const text = (schema: unknown) => `${JSON.stringify(schema, null, 2)}\n`;
  return {
    'acceptance-policy.schema.json': text(acceptancePolicyJsonSchema()),
    'release-policy.schema.json': text(releasePolicyJsonSchema()),
    'dataset-lineage.schema.json': text(datasetLineageJsonSchema()),
    'release-file.schema.json': text(releaseFileJsonSchema()),
    'dataset-manifest.schema.json': text(datasetManifestJsonSchema()),
    'model-card.schema.json': text(fdaModelCardJsonSchema()),
  };
}

if (require.main === module) {
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  for (const [name, content] of Object.entries(jsonSchemaFiles())) {
    const file = path.join(SCHEMAS_DIR, name);
    writeFileSync(file, content);
    console.log(`wrote ${path.relative(process.cwd(), file)} (${content.length} bytes)`);
  }
}
