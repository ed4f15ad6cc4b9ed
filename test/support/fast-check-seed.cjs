// Property tests run with a fixed seed in CI, so a run is reproducible; set FC_SEED to explore other
// inputs locally (a failure prints its seed and path to replay it). Plain CommonJS on purpose: node
// preloads it into every thread, including Temporal's workflow threads, where no TypeScript loader runs,
// and it must configure the same (CommonJS) fast-check instance the tests require.
const fc = require('fast-check');

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261126) });
