/**
 * Writes demo/models/sepsis-alert-<version>.onnx: the demo logistic models (src/demo/artifacts.ts) as
 * standard ONNX graphs, built with protobufjs (no Python tooling). Deterministic; `--check` exits 1
 * if a committed file differs from what would be generated.
 *
 *   node --import tsx infra/generate-onnx-models.ts [--check]
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_CANDIDATE, DEMO_CANDIDATE_SITE_REGRESSION, DEMO_INCUMBENT } from '../src/demo/artifacts';
import { logisticToOnnx } from '../src/models/onnx-logistic';

export function demoOnnxFiles(): Record<string, Uint8Array> {
  return Object.fromEntries(
    [DEMO_INCUMBENT, DEMO_CANDIDATE, DEMO_CANDIDATE_SITE_REGRESSION].map((m) => [
      `models/${m.name}-${m.version}.onnx`,
      logisticToOnnx(m),
    ]),
  );
}

function main(): void {
  const check = process.argv.includes('--check');
  const root = path.resolve(__dirname, '..', 'demo');
  let stale = 0;
  for (const [rel, bytes] of Object.entries(demoOnnxFiles())) {
    const file = path.join(root, rel);
    if (check) {
      const same = fs.existsSync(file) && Buffer.compare(fs.readFileSync(file), Buffer.from(bytes)) === 0;
      if (!same) {
        stale++;
        console.error(`stale: demo/${rel}`);
      }
    } else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, bytes);
      console.log(`wrote demo/${rel} (${bytes.length} bytes)`);
    }
  }
  if (stale > 0) process.exit(1);
}

if (require.main === module) main();
