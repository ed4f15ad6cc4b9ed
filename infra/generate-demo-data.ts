/** Regenerate the committed demo artifacts under demo/ (deterministic; see src/demo/artifacts.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { demoFiles } from '../src/demo/artifacts';
import { DEMO_DIR } from '../src/demo/seed';

for (const [rel, content] of Object.entries(demoFiles())) {
  const file = path.join(DEMO_DIR, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  console.log(`wrote ${path.relative(process.cwd(), file)} (${content.length} bytes)`);
}
