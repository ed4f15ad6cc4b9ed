import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** Write via a temp file in the same directory and rename, so readers never see half a file. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Parse a YAML or JSON document (JSON is YAML, but JSON files get JSON's stricter error messages). */
export function parseYamlOrJson(text: string, file: string): unknown {
  return /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
}
