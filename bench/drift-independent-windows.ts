/**
 * No-shift false-alarm rate of the drift judge on windows drawn with node:crypto uniforms instead of the seeded
 * mulberry32 streams of bench/drift-scenarios.ts (which seed each window's reference and window with adjacent
 * integers): a check that a rate measured by `bench:drift` is the test's and not the generator's. Not reproducible
 * draw for draw, by design.
 *
 *   node --import tsx bench/drift-independent-windows.ts <continuous|binary|count|categorical> <n> <windows>
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { quantileEdges } from '../src/stats/drift';
import { clopperPearsonInterval } from '../src/stats/proportion-intervals';
import { judgeWindow, offlineFeature, SCENARIOS, type Kind } from './drift-scenarios';

let buf = Buffer.alloc(0);
let pos = 0;
/** Uniform in [0, 1) from 32 bits of node:crypto, buffered. */
const uniform = (): number => {
  if (pos + 4 > buf.length) {
    buf = randomBytes(1 << 16);
    pos = 0;
  }
  const u = buf.readUInt32BE(pos) / 4294967296;
  pos += 4;
  return u;
};

const kind = process.argv[2] as Kind;
const n = Number(process.argv[3]);
const windows = Number(process.argv[4]);
if (!SCENARIOS[kind] || !(n > 0) || !(windows > 0)) {
  console.error('usage: drift-independent-windows.ts <continuous|binary|count|categorical> <n> <windows>');
  process.exit(2);
}
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
console.log(`load at start ${load()}`);
let alarms = 0;
for (let w = 0; w < windows; w++) {
  const values = Array.from({ length: 2000 }, () => SCENARIOS[kind].draw(uniform, false));
  const ref = { kind, values, edges: quantileEdges(values, 10) };
  const win = Array.from({ length: n }, () => SCENARIOS[kind].draw(uniform, false));
  if (judgeWindow(offlineFeature(ref, win), n).verdict === 'fail') alarms++;
}
const ci = clopperPearsonInterval(alarms, windows);
console.log(
  `${kind} n ${n}: ${alarms} / ${windows} = ${((100 * alarms) / windows).toFixed(3)} % (95 % CI ${(100 * ci.lower).toFixed(2)}–${(100 * ci.upper).toFixed(2)} %); load at end ${load()}`,
);
