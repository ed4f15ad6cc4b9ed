/** Regenerate the committed demo artifacts under demo/ (deterministic; see src/demo/artifacts.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { demoFiles } from '../src/demo/artifacts';
import { demoManifestFiles } from '../src/demo/manifests';
import { DEMO_DIR } from '../src/demo/seed';

// Manifests are derived from the data files, so they are written after them.
for (const [rel, content] of Object.entries(demoFiles())) {
  const file = path.join(DEMO_DIR, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  console.log(`wrote ${path.relative(process.cwd(), file)} (${content.length} bytes)`);
}
demoManifestFiles(DEMO_DIR)
  .then((manifests) => {
    for (const [rel, content] of Object.entries(manifests)) {
      mkdirSync(path.dirname(path.join(DEMO_DIR, rel)), { recursive: true });
      writeFileSync(path.join(DEMO_DIR, rel), content);
      console.log(`wrote demo/${rel} (${content.length} bytes)`);
    }
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
