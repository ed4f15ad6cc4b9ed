/**
 * Worker thread of `EvaluationThreads`: measures one model (the incumbent) on every slice group while the
 * main thread measures the other. It receives the model's plain-data work, then the other model's score
 * order (so its DeLong placements land at the other model's positions of the same rows), and posts each
 * group's raw measures with that group's placements (transferred, not copied). Two placement buffers
 * circulate: the main thread hands one back when it has paired a group, so a worker running ahead waits
 * instead of allocating (at 5M rows each is 40 MB).
 */
import { parentPort } from 'node:worker_threads';
import { measureModelGroup, positionsIn, startModel, type ModelWork } from '../evaluation/evaluate';

type Inbound =
  | { type: 'model'; work: ModelWork }
  | { type: 'order'; order: Uint32Array }
  | { type: 'placement'; placement: Float64Array };

const port = parentPort!;
let measurer: ReturnType<typeof startModel> | null = null;
let order: Uint32Array | null = null;
const free: Float64Array[] = [];
let wake: (() => void) | null = null;

async function placementBuffer(n: number, g: number): Promise<Float64Array> {
  if (g === 1) return new Float64Array(n); // the second buffer; the first is the model's own
  while (free.length === 0) await new Promise<void>((resolve) => (wake = resolve));
  return free.shift()!;
}

async function run(m: NonNullable<typeof measurer>, candidateOrder: Uint32Array): Promise<void> {
  const { work } = m;
  const toCandidate = positionsIn(candidateOrder, m.model.order);
  for (let g = 0; g < work.groups.length; g++) {
    if (g > 0) m.model.placement = await placementBuffer(work.labels.length, g);
    const result = measureModelGroup(m, g, toCandidate);
    const placement = m.model.placement;
    port.postMessage({ type: 'group', g, result, placement }, [placement.buffer as ArrayBuffer]);
  }
  port.postMessage({ type: 'done' });
}

const report = (e: unknown) =>
  port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });

port.on('message', (msg: Inbound) => {
  try {
    if (msg.type === 'placement') {
      free.push(msg.placement);
      wake?.();
      wake = null;
      return;
    }
    // sort while the main thread sorts the other model; its order arrives when that sort is done
    if (msg.type === 'model') measurer = startModel(msg.work);
    else order = msg.order;
    if (measurer && order) {
      const [m, o] = [measurer, order];
      measurer = order = null;
      run(m, o).catch(report);
    }
  } catch (e) {
    report(e);
  }
});
