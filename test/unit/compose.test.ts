import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';

/**
 * docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so this checks what
 * breaks them silently: entry points that the build does not produce, env vars the app ignores,
 * credentials that do not match the S3 identities, floating image tags, missing files.
 */
const root = path.resolve(__dirname, '../..');
const read = (rel: string): string => fs.readFileSync(path.join(root, rel), 'utf8');
const exists = (rel: string): boolean => fs.existsSync(path.join(root, rel));

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: Array<string | { published?: string | number; target?: number; host_ip?: string }>;
  volumes?: Array<string | { source?: string; target?: string; type?: string }>;
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const vigilServices = Object.entries(services).filter(([name]) => name.startsWith('vigil-'));
const dockerfile = read('Dockerfile');

/** Dockerfile instructions with line continuations joined. */
const instructions = dockerfile
  .replace(/\\\r?\n/g, ' ')
  .split(/\r?\n/)
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const copies = instructions
  .filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l))
  .map((l) =>
    l
      .replace(/^COPY\s+/i, '')
      .replace(/--\S+\s+/g, '')
      .split(/\s+/),
  )
  .map((parts) => ({ sources: parts.slice(0, -1), dest: parts[parts.length - 1]! }));
const workdir =
  instructions
    .filter((l) => /^WORKDIR\s/i.test(l))
    .map((l) => l.split(/\s+/)[1]!)
    .pop() ?? '/';

function env(service: Service): Record<string, string> {
  const raw = service.environment ?? {};
  const pairs = Array.isArray(raw)
    ? raw.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const)
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)] as const);
  return Object.fromEntries(pairs);
}

/** Compose interpolation as the operator would see it: defaults applied, required values supplied. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    if (op === '-') return arg ?? '';
    if (op === '?') return `operator-supplied-${name.toLowerCase()}-value`;
    throw new Error(`\${${name}} has neither a default nor a required marker`);
  });
}

function argv(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

/** The script a vigil service runs: the image's CMD unless the service overrides it. */
function scriptOf(service: Service): string {
  const cmd = [...argv(service.entrypoint), ...argv(service.command)];
  const fromImage = instructions.filter((l) => /^CMD\s/i.test(l)).pop();
  const args = cmd.length > 0 ? cmd : (JSON.parse(fromImage!.replace(/^CMD\s+/i, '')) as string[]);
  const script = args.find((a) => /\.(c|m)?js$/.test(a));
  assert.ok(script, `no script in ${JSON.stringify(args)}`);
  return script;
}

/** True when a non-stage COPY puts repo file `rel` at <WORKDIR>/<rel> in the image. */
function copiedIntoImage(rel: string): boolean {
  return copies.some(({ sources, dest }) =>
    sources.some((src) => {
      const s = src.replace(/^\.\//, '').replace(/\/$/, '');
      const target = path.posix.resolve(workdir, dest);
      if (s === rel)
        return (
          target === path.posix.join(workdir, rel) ||
          (dest.endsWith('/') && target === path.posix.join(workdir, path.posix.dirname(rel)))
        );
      return rel.startsWith(`${s}/`) && target === path.posix.join(workdir, s);
    }),
  );
}

const configSource = read('src/config.ts');
const knownVars = new Set([...configSource.matchAll(/\b(VIGIL_[A-Z0-9_]+)\s*:/g)].map((m) => m[1]!));

describe('docker-compose.yml', () => {
  it('has the production-shaped topology', () => {
    for (const name of [
      'postgresql',
      'temporal',
      'temporal-ui',
      'seaweedfs',
      'vigil-setup',
      'vigil-worker',
      'vigil-api',
    ]) {
      assert.ok(services[name], `service ${name} is missing`);
    }
  });

  it('pins every image (no :latest, no bare names)', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image === undefined) continue;
      const ref = svc.image;
      const tag = ref.includes('@sha256:') ? 'digest' : ref.slice(ref.lastIndexOf('/') + 1).split(':')[1];
      assert.ok(tag, `${name}: image ${ref} has no tag`);
      assert.notEqual(tag, 'latest', `${name}: image ${ref} floats`);
      assert.match(tag, /\d/, `${name}: image ${ref} should name a version`);
    }
  });

  it('builds every vigil service from the Dockerfile', () => {
    assert.ok(vigilServices.length >= 3);
    for (const [name, svc] of vigilServices) {
      const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
      assert.ok(build, `${name} has no build`);
      assert.equal(path.resolve(root, build.context ?? '.'), root, `${name}: build context is not the repo root`);
      assert.equal(build.dockerfile ?? 'Dockerfile', 'Dockerfile', `${name}: unexpected Dockerfile`);
      assert.equal(build.target, undefined, `${name}: must run the runtime stage`);
    }
  });

  it('runs only scripts the image contains: dist/* compiled from src/, infra/* copied by the Dockerfile', () => {
    const buildTsconfig = JSON.parse(read('tsconfig.build.json')) as {
      compilerOptions: { rootDir: string; outDir: string };
      include: string[];
    };
    assert.equal(buildTsconfig.compilerOptions.rootDir, 'src');
    assert.equal(buildTsconfig.compilerOptions.outDir, 'dist');
    assert.ok(buildTsconfig.include.includes('src'));
    assert.ok(copiedIntoImage('src'), 'the Dockerfile does not COPY src/');
    assert.match(dockerfile, /npm run build/, 'the Dockerfile does not run the build');

    for (const [name, svc] of vigilServices) {
      const script = scriptOf(svc);
      if (script.startsWith('dist/')) {
        const source = `src/${script.slice('dist/'.length).replace(/\.js$/, '.ts')}`;
        assert.ok(exists(source), `${name} runs ${script}, but ${source} does not exist`);
      } else if (script.startsWith('infra/')) {
        assert.ok(exists(script), `${name} runs ${script}, which does not exist`);
        assert.ok(copiedIntoImage(script), `${name} runs ${script}, which the Dockerfile does not COPY to ${workdir}`);
      } else {
        assert.fail(`${name} runs ${script}, which is neither in dist/ nor infra/`);
      }
    }
  });

  it('infra scripts require only dist modules that src/ builds, and only names those modules export', async () => {
    for (const [, svc] of vigilServices) {
      const script = scriptOf(svc);
      if (!script.startsWith('infra/')) continue;
      const requires = [...read(script).matchAll(/const\s*\{([^}]*)\}\s*=\s*require\('\.\.\/dist\/([^']+)'\)/g)];
      assert.ok(requires.length > 0, `${script}: expected requires of ../dist modules`);
      for (const [, names, mod] of requires) {
        const source = `src/${mod}.ts`;
        assert.ok(exists(source), `${script} requires dist/${mod}, but ${source} does not exist`);
        const exported = (await import(path.join(root, source))) as Record<string, unknown>;
        for (const n of names!
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)) {
          assert.notEqual(
            exported[n],
            undefined,
            `${script} uses ${n} from dist/${mod}, which ${source} does not export`,
          );
        }
      }
    }
  });

  it('sets only env vars src/config.ts knows, with values loadConfig accepts', () => {
    assert.ok(knownVars.size >= 10, 'could not read the VIGIL_* names from src/config.ts');
    for (const [name, svc] of vigilServices) {
      const vars = Object.fromEntries(Object.entries(env(svc)).map(([k, v]) => [k, interpolate(v)]));
      const unknown = Object.keys(vars).filter((k) => !knownVars.has(k));
      assert.deepEqual(unknown, [], `${name} sets env vars the app ignores`);
      assert.doesNotThrow(() => loadConfig(vars), `${name}: loadConfig rejects its environment`);
    }
    const dockerfileEnv = [...dockerfile.matchAll(/^ENV\s+(VIGIL_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    assert.deepEqual(
      dockerfileEnv.filter((k) => !knownVars.has(k)),
      [],
    );
  });

  it('keeps evidence under COMPLIANCE retention for years', () => {
    for (const name of ['vigil-worker', 'vigil-api']) {
      const config = loadConfig(
        Object.fromEntries(Object.entries(env(services[name]!)).map(([k, v]) => [k, interpolate(v)])),
      );
      assert.equal(config.retention?.mode, 'COMPLIANCE', name);
      assert.ok(config.retention.days >= 365 * 6, `${name}: retention of ${config.retention.days} days is too short`);
    }
  });

  it('points the worker at the workflow bundle the Dockerfile builds', () => {
    const bundle = env(services['vigil-worker']!).VIGIL_WORKFLOW_BUNDLE;
    assert.ok(bundle, 'vigil-worker does not use a pre-built workflow bundle');
    const rel = path.posix.relative(workdir, bundle);
    assert.match(dockerfile, new RegExp(`tsx infra/bundle-workflows\\.ts ${rel.replace(/\./g, '\\.')}\\b`));
    assert.ok(exists('infra/bundle-workflows.ts'));
    assert.ok(copiedIntoImage('infra/bundle-workflows.ts'), 'the build stage does not COPY infra/bundle-workflows.ts');
  });

  it('gives the app the non-admin S3 identity and only the setup the admin one, matching s3.json', () => {
    const mount = (services.seaweedfs!.volumes ?? []).find(
      (v) => typeof v === 'string' && v.startsWith('./infra/seaweedfs/s3.json:'),
    );
    assert.ok(mount, 'seaweedfs does not mount infra/seaweedfs/s3.json');
    const configPath = (mount as string).split(':')[1];
    assert.ok(
      argv(services.seaweedfs!.command).includes(`-s3.config=${configPath}`),
      'seaweedfs does not load the mounted s3.json',
    );

    const s3 = JSON.parse(read('infra/seaweedfs/s3.json')) as {
      identities: Array<{
        name: string;
        credentials: Array<{ accessKey: string; secretKey: string }>;
        actions: string[];
      }>;
    };
    const identityOf = (svc: string) => {
      const e = env(services[svc]!);
      const id = s3.identities.find((i) =>
        i.credentials.some(
          (c) => c.accessKey === e.VIGIL_S3_ACCESS_KEY_ID && c.secretKey === e.VIGIL_S3_SECRET_ACCESS_KEY,
        ),
      );
      assert.ok(id, `${svc}: its S3 credentials match no identity in s3.json`);
      return id;
    };
    for (const svc of ['vigil-worker', 'vigil-api']) {
      assert.ok(
        !identityOf(svc).actions.includes('Admin'),
        `${svc} must not run as an S3 admin (admins bypass retention)`,
      );
    }
    assert.ok(
      identityOf('vigil-setup').actions.includes('Admin'),
      'vigil-setup needs the admin identity to create the bucket',
    );

    // The app identity's grants mirror what the local stack gives it (src/stack/seaweed.ts).
    const actions = (name: string): string[] => {
      const list = new RegExp(`const ${name} = \\[([^\\]]*)\\]`).exec(read('src/stack/seaweed.ts'))?.[1];
      assert.ok(list, `${name} not found in src/stack/seaweed.ts`);
      return [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]!).sort();
    };
    assert.deepEqual([...identityOf('vigil-worker').actions].sort(), actions('WORKER_ACTIONS'));
    assert.deepEqual([...identityOf('vigil-api').actions].sort(), actions('READER_ACTIONS'));
  });

  it('orders start-up with depends_on conditions backed by healthchecks', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (svc.depends_on === undefined) continue;
      assert.ok(!Array.isArray(svc.depends_on), `${name}: depends_on without conditions`);
      for (const [dep, { condition }] of Object.entries(svc.depends_on)) {
        assert.ok(services[dep], `${name} depends on unknown service ${dep}`);
        assert.ok(
          condition === 'service_healthy' || condition === 'service_completed_successfully',
          `${name} → ${dep}: ${condition}`,
        );
        if (condition === 'service_healthy')
          assert.ok(
            services[dep]!.healthcheck?.test,
            `${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`,
          );
      }
    }
    for (const name of ['vigil-worker', 'vigil-api']) {
      assert.deepEqual(services[name]!.depends_on, { 'vigil-setup': { condition: 'service_completed_successfully' } });
    }
    const temporalCheck = argv(services.temporal!.healthcheck?.test).join(' ');
    assert.ok(
      temporalCheck.includes(`--namespace ${env(services['vigil-setup']!).VIGIL_TEMPORAL_NAMESPACE}`),
      'temporal is healthy before the namespace vigil-setup uses exists',
    );
  });

  it('publishes ports on loopback only, and the API on the port it listens on', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const p of svc.ports ?? []) {
        const spec = typeof p === 'string' ? p : `${p.host_ip ?? ''}:${p.published}:${p.target}`;
        assert.match(spec, /^127\.0\.0\.1:/, `${name} publishes ${spec} beyond loopback`);
      }
    }
    const apiPort = env(services['vigil-api']!).VIGIL_API_PORT;
    assert.ok((services['vigil-api']!.ports ?? []).some((p) => typeof p === 'string' && p.endsWith(`:${apiPort}`)));
  });
});

describe('Dockerfile', () => {
  it('COPYs only files and directories that exist', () => {
    assert.ok(copies.length > 0);
    for (const { sources } of copies) {
      for (const src of sources) assert.ok(exists(src), `Dockerfile COPYs ${src}, which does not exist`);
    }
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(
        copies.some(({ sources }) => sources.includes(f)),
        `Dockerfile does not COPY ${f}`,
      );
    }
  });

  it('installs from the lockfile, runs as non-root, and ships production dependencies only', () => {
    const stages = dockerfile.split(/^FROM\s/m).slice(1);
    assert.ok(stages.length >= 2, 'expected a multi-stage build');
    for (const stage of stages) assert.match(stage, /npm ci\b/);
    const runtime = stages[stages.length - 1]!;
    assert.match(runtime, /npm ci[^\n]*--omit=dev/);
    assert.match(runtime, /^USER\s+(?!root\b|0\b)\S+/m);
    assert.match(runtime, /^COPY --from=\S+ \/app\/dist \.\/dist$/m);
  });

  it('pins its base images', () => {
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    for (const base of bases) assert.match(base, /^[^:]+:\d[^:]*$/, `base image ${base} is not pinned to a version`);
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim());
    for (const p of ['node_modules', 'dist', '.tools', '.vigil', '.env', '.git'])
      assert.ok(ignored.includes(p), `.dockerignore misses ${p}`);
  });
});
