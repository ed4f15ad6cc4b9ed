import crypto from 'node:crypto';
import fs from 'node:fs';
import { parse } from 'csv-parse';
const file = '/tmp/vigilprobe/p.csv';
const size = fs.statSync(file).size;
async function main() {
  let t = process.hrtime.bigint();
  let n = 0;
  await new Promise<void>((res, rej) => {
    const p = parse({});
    p.on('readable', () => { let r; while ((r = p.read()) !== null) n++; });
    p.on('end', res); p.on('error', rej);
    fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(p);
  });
  let s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log('csv-parse readable', n, s.toFixed(2), (size / 1e6 / s).toFixed(1), 'MB/s');
  const buf = Buffer.alloc(400);
  t = process.hrtime.bigint();
  for (let i = 0; i < 600000; i++) (crypto as any).hash('sha256', buf.subarray(0, 33), 'buffer');
  s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log('600k crypto.hash', s.toFixed(2));
  t = process.hrtime.bigint();
  for (let i = 0; i < 600000; i++) crypto.createHash('sha256').update(buf.subarray(0, 33)).digest();
  s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log('600k createHash', s.toFixed(2));
}
main();
