/**
 * Worker thread of `EvaluationThreads`: measures one model (the incumbent) on every slice group while the
 * main thread measures the other. It receives the model's plain-data work, then the other model's score
 * order (so its DeLong placements land at the other model's positions of the same rows), and posts each
 * group's raw measures with that group's placements (transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { measureModelGroup, positionsIn, startModel, type ModelWork } from '../evaluation/evaluate';

type Inbound = { type: 'model'; work: ModelWork } | { type: 'order'; order: Uint32Array };

const port = parentPort!;
let work: ModelWork | null = null;
let order: Uint32Array | null = null;

function run(w: ModelWork, candidateOrder: Uint32Array, measurer: ReturnType<typeof startModel>): void {
  const toCandidate = positionsIn(candidateOrder, measurer.model.order);
  for (let g = 0; g < w.groups.length; g++) {
    if (g > 0) measurer.model.placement = new Float64Array(w.labels.length);
    const result = measureModelGroup(measurer, g, toCandidate);
    const placement = measurer.model.placement;
    port.postMessage({ type: 'group', g, result, placement }, [placement.buffer as ArrayBuffer]);
  }
}

let measurer: ReturnType<typeof startModel> | null = null;
port.on('message', (m: Inbound) => {
  try {
    if (m.type === 'model') {
      work = m.work;
      // sort while the main thread sorts the other model; its order arrives when that sort is done
      measurer = startModel(work);
    } else order = m.order;
    if (work && order && measurer) {
      const [w, o, ms] = [work, order, measurer];
      work = order = measurer = null;
      run(w, o, ms);
      port.postMessage({ type: 'done' });
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
port.postMessage({ type: 'ready' });
