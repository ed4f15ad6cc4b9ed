/**
 * The production topology in one place: every service, how many replicas, its ports and its environment.
 *
 * The launcher (./launcher.ts, `npm run test:topology`) runs it on loopback with free ports; docker-compose.yml
 * describes the same services for containers. Both read this spec, so the two cannot drift apart unnoticed: a
 * test compares compose's services, replica counts and environment names with TOPOLOGY.
 *
 * Environment values are templates. A placeholder in braces is filled in by whoever runs the topology:
 *
 *   {<service>.<port>}   host:port of that service's port (a replicated service: its load balancer, or the only one)
 *   {self.<port>}        the port number this replica listens on (compose: the container port)
 *   {self.id}            this replica's name, `<service>-<n>` (n from 1): stable across restarts
 *   {bind}               the address servers listen on (loopback here, 0.0.0.0 in a container)
 *   {db:<name>}          a PostgreSQL connection URL for database <name> on the postgres service
 *   {secret:<name>}      a secret generated once per state dir (compose: an env file / secret)
 *   {file:<name>}        a file every replica reads (FILES below says what it is)
 *   {dir:<name>}         a directory of this replica's own (compose: a volume per replica)
 *   {shared-dir:<name>}  a directory every replica of every service shares (compose: one named volume)
 */

/** The services, in start order (each depends only on services before it). */
export const SERVICE_NAMES = ['postgres', 'temporal', 'seaweedfs', 'worker', 'api', 'gateway', 'nginx'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceSpec {
  /** What runs: a server binary (the launcher knows how to start it) or a Vigil entry point (node --import tsx). */
  readonly run:
    { readonly kind: 'server'; readonly binary: string } | { readonly kind: 'node'; readonly script: string };
  readonly replicas: number;
  /** Named ports and their conventional (container) numbers; the launcher maps each to a free loopback port. */
  readonly ports: Readonly<Record<string, number>>;
  readonly dependsOn: readonly ServiceName[];
  /** Environment templates (see the module comment). Empty for servers configured by a generated file. */
  readonly env: Readonly<Record<string, string>>;
  /** How the launcher knows a replica is ready. */
  readonly ready:
    { readonly kind: 'log-line'; readonly text: string } | { readonly kind: 'http'; readonly path: string };
  /** One line: what it is for. */
  readonly role: string;
}

/** Databases on the postgres service: Temporal's two (temporal-sql-tool sets them up) and Vigil's shared state. */
export const DATABASES = {
  temporal: 'temporal',
  temporalVisibility: 'temporal_visibility',
  state: 'vigil_state',
} as const;

/** The Temporal namespace Vigil runs in (created at first start) and the search attributes registered in it. */
export const TEMPORAL_NAMESPACE = 'default';

/** The evidence bucket (Object Lock on; created with the admin identity at first start). */
export const EVIDENCE_BUCKET = 'vigil-evidence';

/** What the {file:…} placeholders name. */
export const FILES = {
  users: 'users file: accounts, roles and scrypt password hashes (config/users.example.yaml in tests)',
  'gateway-models': 'the gateway models file (YAML): models, versions and their initial routes',
  'workflow-bundle': 'the workflow code bundled once (infra/bundle-workflows.ts), so every worker runs the same build',
} as const;

/** What the {secret:…} placeholders name. */
export const SECRETS = {
  'api-token': 'bearer token of the JSON API (service accounts, the CLI)',
  's3-writer-id': "the worker's and gateways' S3 identity (create and read evidence, never delete)",
  's3-writer-secret': '',
  's3-reader-id': "the API's read-only S3 identity",
  's3-reader-secret': '',
  'gateway-control-token': 'bearer token of the gateways’ control API (route changes)',
  'gateway-case-id-key': 'HMAC key the gateways hash case ids with (every gateway must use the same one)',
} as const;

const temporalClient = {
  VIGIL_TEMPORAL_ADDRESS: '{temporal.frontend}',
  VIGIL_TEMPORAL_NAMESPACE: TEMPORAL_NAMESPACE,
} as const;

const evidence = (who: 'writer' | 'reader') =>
  ({
    VIGIL_S3_ENDPOINT: 'http://{seaweedfs.s3}',
    VIGIL_S3_ACCESS_KEY_ID: `{secret:s3-${who}-id}`,
    VIGIL_S3_SECRET_ACCESS_KEY: `{secret:s3-${who}-secret}`,
    VIGIL_S3_BUCKET: EVIDENCE_BUCKET,
    VIGIL_RETENTION_MODE: 'COMPLIANCE',
    VIGIL_RETENTION_DAYS: '1',
  }) as const;

/** What API replicas share (sessions, lockouts, rate limits, delivery ledger, auth audit log): src/api/shared-state.ts. */
const sharedState = { VIGIL_STATE_DATABASE_URL: '{db:vigil_state}' } as const;

/**
 * The topology. Workers, API replicas and gateways are stateless apart from what they share through Temporal,
 * S3 and the shared-state database, so any replica can be killed and another carries on.
 */
export const TOPOLOGY: Readonly<Record<ServiceName, ServiceSpec>> = {
  postgres: {
    run: { kind: 'server', binary: 'postgres (Debian package, infra/install-postgres.sh)' },
    replicas: 1,
    ports: { sql: 5432 },
    dependsOn: [],
    env: {},
    ready: { kind: 'log-line', text: 'database system is ready to accept connections' },
    role: "Temporal's persistence and visibility, and Vigil's shared state",
  },
  temporal: {
    run: { kind: 'server', binary: '.tools/temporal-server/temporal-server (infra/install-temporal-server.sh)' },
    replicas: 1,
    // Frontend gRPC/HTTP, the internal services' gRPC, and each service's membership (ringpop) port.
    ports: {
      frontend: 7233,
      frontendHttp: 7243,
      history: 7234,
      matching: 7235,
      internalWorker: 7239,
      frontendMembership: 6933,
      historyMembership: 6934,
      matchingMembership: 6935,
      internalWorkerMembership: 6939,
    },
    dependsOn: ['postgres'],
    env: {},
    ready: { kind: 'http', path: 'grpc.health.v1.Health/Check (temporal.api.workflowservice.v1.WorkflowService)' },
    role: 'the real Temporal server (all four services in one process) on PostgreSQL, SQL visibility',
  },
  seaweedfs: {
    run: { kind: 'server', binary: '.tools/bin/weed mini (infra/install-tools.sh)' },
    replicas: 1,
    ports: { s3: 8333 },
    dependsOn: [],
    env: {},
    ready: { kind: 'http', path: 'S3 ListBuckets + a probe object written and read back' },
    role: 'the evidence store (S3 with Object Lock) and the gateways’ route store and telemetry',
  },
  worker: {
    run: { kind: 'node', script: 'src/workers/main.ts' },
    replicas: 2,
    ports: {},
    dependsOn: ['temporal', 'seaweedfs'],
    env: {
      ...temporalClient,
      ...evidence('writer'),
      // No VIGIL_STATE_DATABASE_URL: only the API reads the state database (least privilege, as in compose).
      VIGIL_SIGNING_KEY_DIR: '{shared-dir:keys}',
      VIGIL_WORKFLOW_BUNDLE: '{file:workflow-bundle}',
      VIGIL_STATE_DIR: '{dir:state}',
      // Simulated live traffic: the release measures without a traffic driver (gateway telemetry is the demo stack's).
      VIGIL_LIVE_SOURCE: 'simulated',
      VIGIL_LOG_LEVEL: 'info',
    },
    ready: { kind: 'log-line', text: '"msg":"worker started"' },
    role: 'runs release workflows and their activities; either worker can take any task',
  },
  api: {
    run: { kind: 'node', script: 'src/api/main.ts' },
    replicas: 2,
    ports: { http: 8080 },
    dependsOn: ['temporal', 'seaweedfs', 'postgres'],
    env: {
      ...temporalClient,
      ...evidence('reader'),
      ...sharedState,
      VIGIL_API_HOST: '{bind}',
      VIGIL_API_PORT: '{self.http}',
      VIGIL_API_URL: 'http://{nginx.http}',
      VIGIL_API_TOKEN: '{secret:api-token}',
      VIGIL_USERS_FILE: '{file:users}',
      // Every socket from the network nginx is on may set X-Forwarded-For (nginx replaces it with the address it
      // saw): per-address sign-in limits then count each client, not nginx. Loopback here; compose: its networks.
      VIGIL_TRUSTED_PROXIES: '127.0.0.0/8',
      VIGIL_SIGNING_KEY_DIR: '{shared-dir:keys}',
      VIGIL_STATE_DIR: '{dir:state}',
      VIGIL_LOG_LEVEL: 'info',
    },
    ready: { kind: 'http', path: '/healthz' },
    role: 'JSON API and web UI (sign-off), behind nginx',
  },
  gateway: {
    run: { kind: 'node', script: 'src/gateway/main.ts' },
    replicas: 2,
    ports: { http: 8090 },
    dependsOn: ['seaweedfs'],
    env: {
      ...evidence('writer'),
      VIGIL_GATEWAY_HOST: '{bind}',
      VIGIL_GATEWAY_PORT: '{self.http}',
      VIGIL_GATEWAY_ID: '{self.id}',
      VIGIL_GATEWAY_MODELS: '{file:gateway-models}',
      VIGIL_GATEWAY_CONTROL_TOKEN: '{secret:gateway-control-token}',
      VIGIL_GATEWAY_CASE_ID_KEY: '{secret:gateway-case-id-key}',
      VIGIL_GATEWAY_WAL_DIR: '{dir:wal}',
      // Both gateways follow the S3 route store: a release's route change reaches each within a second.
      VIGIL_GATEWAY_ROUTE_POLL_MS: '1000',
      VIGIL_GATEWAY_SEGMENT_MAX_AGE_MS: '2000',
      VIGIL_STATE_DIR: '{dir:state}',
      VIGIL_LOG_LEVEL: 'info',
    },
    ready: { kind: 'log-line', text: '"msg":"gateway listening"' },
    role: 'inference gateway: serves the routed model versions, records telemetry; shares the S3 route store',
  },
  nginx: {
    run: { kind: 'server', binary: 'nginx (Debian package, infra/install-nginx.sh)' },
    replicas: 1,
    ports: { http: 80 },
    dependsOn: ['api'],
    env: {},
    ready: { kind: 'http', path: '/healthz (through to an API replica)' },
    role: 'load balancer for the API replicas: round robin, no sticky sessions',
  },
};

/** Placeholders in a template, e.g. ['temporal.frontend', 'secret:api-token']. */
export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!);
}

/** What fills the placeholders of one replica's environment. Unknown placeholders are an error, never left in. */
export interface EnvContext {
  address(service: ServiceName, port: string): string;
  selfPort(port: string): number;
  selfId: string;
  bind: string;
  db(name: string): string;
  secret(name: string): string;
  file(name: string): string;
  dir(name: string): string;
  sharedDir(name: string): string;
}

/** The environment of one replica of `service`, every placeholder filled in. */
export function resolveEnv(service: ServiceName, ctx: EnvContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, template] of Object.entries(TOPOLOGY[service].env)) {
    out[k] = template.replace(/\{([^{}]+)\}/g, (_, p: string) => fill(p, ctx, service, k));
  }
  return out;
}

function fill(p: string, ctx: EnvContext, service: ServiceName, key: string): string {
  const colon = p.indexOf(':');
  if (colon > 0) {
    const [kind, name] = [p.slice(0, colon), p.slice(colon + 1)];
    switch (kind) {
      case 'db':
        return ctx.db(name);
      case 'secret':
        return ctx.secret(name);
      case 'file':
        return ctx.file(name);
      case 'dir':
        return ctx.dir(name);
      case 'shared-dir':
        return ctx.sharedDir(name);
    }
  }
  if (p === 'bind') return ctx.bind;
  if (p === 'self.id') return ctx.selfId;
  const dot = p.indexOf('.');
  if (dot > 0) {
    const [svc, port] = [p.slice(0, dot), p.slice(dot + 1)];
    if (svc === 'self') return String(ctx.selfPort(port));
    if ((SERVICE_NAMES as readonly string[]).includes(svc) && port in TOPOLOGY[svc as ServiceName].ports) {
      return ctx.address(svc as ServiceName, port);
    }
  }
  throw new Error(`topology: ${service} ${key}: unknown placeholder {${p}}`);
}
