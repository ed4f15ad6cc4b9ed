// @ts-check
/**
 * Vigil's layers, enforced: `npm run depcheck` (and infra/test.sh, test/unit/dependency-rules.test.ts).
 * A module imports only from its own layer or below. Bottom to top:
 *
 *   contracts  src/domain, src/contracts
 *              Zod schemas and types, message definitions, ports (EvidencePort, RouteControl, …), record shapes
 *              and evidence key rules. Everything else names these, so they import nothing of ours but each
 *              other, no Node built-ins (workflow code imports them), and from npm only zod and the workflow-safe
 *              Temporal packages (@temporalio/client as types only).
 *
 *   logic      src/stats, src/judging, src/evaluation, src/leakage, src/workflows
 *              Pure computation: numbers in, numbers and verdicts out, no I/O of ours. Workflows are here
 *              because they are deterministic orchestration; they are also fenced (below).
 *
 *   adapters   src/activities, src/evidence, src/data, src/models, src/telemetry, src/dossier, src/report,
 *              src/audit, src/attestation, src/codec, src/logging, src/config.ts, src/provenance, src/auth,
 *              src/services, src/sim, src/release-files, src/state
 *              Everything that touches the outside world for a caller: S3, files, model runtimes, keys, Temporal
 *              clients, HTTP out. src/services holds what both API and worker use (release queue client, webhook
 *              signatures); src/sim is the simulated world (a TrafficSource and its cohort) the worker can
 *              measure instead of the gateway's telemetry; src/report and src/dossier render evidence;
 *              src/release-files reads a release file and its local artifacts for the CLI's offline checks.
 *              src/state is the API replicas' shared-state database (PostgreSQL connection and migrations).
 *
 *   apps       src/workers, src/api, src/ui, src/gateway, src/cli, src/stack, src/demo, src/topology
 *              Processes and their wiring: entry points, HTTP servers, commands. src/demo seeds and drives a
 *              demo release through the API, so it sits with the apps that run it (stack, cli).
 *
 * Type-only imports count. `import type { EvidencePort } from '../activities/deps'` coupled the gateway to the
 * activities folder as much as a value import would (issue #13), so the layer rules see every import (the
 * cruise runs with tsPreCompilationDeps). The one deliberate exception is the workflow fence: workflows name
 * their activities by type (proxyActivities), so workflows → activities is allowed type-only and nothing else.
 * Cycles count type-only imports too: a cycle of types is still two modules that cannot be read apart.
 */

const CONTRACTS = '^src/(domain|contracts)/';
const LOGIC = '^src/(stats|judging|evaluation|leakage|workflows)/';
const ADAPTERS =
  '^src/((activities|evidence|data|models|telemetry|dossier|report|audit|attestation|codec|logging|provenance|auth|services|sim|release-files|state)/|config[.]ts$)';
const APPS = '^src/(workers|api|ui|gateway|cli|stack|demo|topology)/';

/** Where code starts without being imported: processes, bundles and threads loaded by path, the test stack. */
const ENTRY_POINTS = [
  '^src/workers/main[.]ts$',
  '^src/api/main[.]ts$',
  '^src/cli/main[.]ts$',
  '^src/gateway/main[.]ts$',
  '^src/stack/main[.]ts$',
  '^src/topology/main[.]ts$',
  // Bundled by path (bundleWorkflowCode({ workflowsPath })), never imported.
  '^src/workflows/index[.]ts$',
  // A worker thread, started by path from src/telemetry/prediction-recorder.ts.
  '^src/telemetry/prediction-encoder-worker[.]ts$',
  // Worker threads started by path: src/gateway/feature-sketch-thread.ts, src/activities/evaluation-threads.ts.
  '^src/gateway/feature-sketch-worker[.]ts$',
  '^src/activities/evaluation-worker[.]ts$',
  // A worker thread started by path from src/data/prediction-thread.ts.
  '^src/data/prediction-worker[.]ts$',
  // Run directly with tsx: prints a password hash for config/users.yaml.
  '^src/auth/hash-cli[.]ts$',
  // The real Temporal + SeaweedFS stack the integration tests start (startTestStack).
  '^src/stack/test-stack[.]ts$',
];
/** A folder's index.ts is its public surface (tests and other folders import it), so it counts as a root. */
const PUBLIC_SURFACES = '^src/[^/]+/index[.]ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only ones included) tie modules together so neither can be read or moved alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'contracts-import-only-contracts',
      severity: 'error',
      comment:
        'src/domain and src/contracts are the bottom layer: they may import each other and nothing else of ours.',
      from: { path: CONTRACTS },
      to: { path: '^src/', pathNot: CONTRACTS },
    },
    {
      name: 'contracts-no-runtime-libraries',
      severity: 'error',
      comment:
        'Workflow code imports the contracts, so they stay bundle-safe: no Node built-ins; from npm only zod and ' +
        '@temporalio/{workflow,common} (anything else as a type).',
      from: { path: CONTRACTS },
      to: {
        dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        dependencyTypesNot: ['type-only'],
        pathNot: ['(^|/)node_modules/(zod|@temporalio/(workflow|common))/'],
      },
    },
    {
      name: 'logic-not-to-adapters-or-apps',
      severity: 'error',
      comment:
        'Pure logic (stats, judging, evaluation, leakage, workflows) must not depend on adapters or apps ' +
        '(workflows → activities is the fence below).',
      from: { path: LOGIC },
      to: { path: [ADAPTERS, APPS], pathNot: '^src/activities/' },
    },
    {
      name: 'logic-not-to-activities',
      severity: 'error',
      comment: 'Only workflows may name activities, and only as types (see workflow-activities-by-type-only).',
      from: { path: LOGIC, pathNot: '^src/workflows/' },
      to: { path: '^src/activities/' },
    },
    {
      name: 'adapters-not-to-apps',
      severity: 'error',
      comment:
        'Adapters serve the apps; an adapter importing a worker, the API, the UI, the gateway, the CLI, the stack ' +
        'or the demo is an upward import. Shared pieces move down (ports to src/contracts, services to src/services).',
      from: { path: ADAPTERS },
      to: { path: APPS },
    },
    {
      name: 'workflow-fence',
      severity: 'error',
      comment:
        "Workflow code runs in Temporal's deterministic sandbox: it imports only the workflow SDK " +
        '(@temporalio/workflow, @temporalio/common), src/domain, src/contracts, src/judging, other workflow ' +
        'modules, and activities as types. Everything else (I/O, Node built-ins) belongs in an activity.',
      from: { path: '^src/workflows/' },
      to: {
        pathNot: [
          '^src/(workflows|domain|contracts|judging)/',
          '^src/activities/',
          '(^|/)node_modules/@temporalio/(workflow|common)/',
        ],
      },
    },
    {
      name: 'workflow-activities-by-type-only',
      severity: 'error',
      comment: 'Workflows call activities through proxyActivities; a value import would pull I/O code into the bundle.',
      from: { path: '^src/workflows/' },
      to: { path: '^src/activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module that imports nothing and that nothing imports is dead code, unless it is an entry point.',
      from: { orphan: true, path: '^src/', pathNot: ENTRY_POINTS },
      to: {},
    },
    {
      name: 'no-unreachable',
      severity: 'error',
      comment:
        "Every module of src/ is reachable from an entry point or a folder's index.ts; one that is not is dead " +
        'code (or an entry point to list in ENTRY_POINTS).',
      from: { path: [...ENTRY_POINTS, PUBLIC_SURFACES] },
      to: { path: '^src/', pathNot: [...ENTRY_POINTS, PUBLIC_SURFACES], reachable: false },
    },
    {
      name: 'src-not-to-tests',
      severity: 'error',
      comment: 'Production code never imports test code.',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'layered-folders-only',
      severity: 'error',
      comment:
        'Every module of src/ belongs to a layer: a new top-level folder must be added to one of the layer ' +
        'patterns above (and to the Layers section of docs/architecture.md).',
      from: { path: '^src/', pathNot: [CONTRACTS, LOGIC, ADAPTERS, APPS] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // See type-only imports (`import type`), so the rules judge them too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
