/**
 * No Docker engine or cluster runs here, so the packaging is checked against the code instead: the Kubernetes
 * manifests, docker-compose.yml and the Dockerfile are parsed, and every path, port and variable they name is
 * compared with what the app really serves and what its configuration really reads.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { parse, parseAllDocuments } from 'yaml';
import prismaConfig from '../prisma.config';
import { loadAppConfig } from '../src/config/app-config';
import { EnvironmentVariables } from '../src/config/environment';
import { DEFAULT_MIGRATIONS_DIR } from '../src/persistence/migrator';
import { startTestApp, TestApp } from './support/test-app';

const ROOT = join(__dirname, '..');
const K8S_DIR = join(ROOT, 'deploy', 'kubernetes');
const EXAMPLE_SECRET_FILE = 'secret.example.yaml';

type Obj = Record<string, any>;

interface Manifest {
  file: string;
  doc: Obj;
}

const manifests: Manifest[] = readdirSync(K8S_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((e) => e.message).join('; ')}`);
      return { file, doc: document.toJS() as Obj };
    }),
  )
  .filter(({ doc }) => doc !== null);

function only(kind: string, exclude?: string): Manifest {
  const found = manifests.filter(({ doc, file }) => doc.kind === kind && file !== exclude);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  return found[0];
}

const deployment = only('Deployment').doc;
const podSpec: Obj = deployment.spec.template.spec;
const container: Obj = podSpec.containers[0];
const job = only('Job').doc;
const jobContainer: Obj = job.spec.template.spec.containers[0];
const service = only('Service').doc;
const pdb = only('PodDisruptionBudget').doc;
const kustomization = only('Kustomization').doc;
const exampleSecret = only('Secret').doc;
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Obj;
const composeService: Obj = Object.values(compose.services as Obj).find((s: Obj) => s.build !== undefined);
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Obj;
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const runtimeStage = dockerfile[dockerfile.length - 1];

/** The variables the service reads: every property of EnvironmentVariables carries a class-validator decorator. */
const CONFIG_VARIABLES = new Set(
  getMetadataStorage()
    .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
    .map((metadata) => metadata.propertyName),
);

describe('deployment packaging matches the code', () => {
  let app: TestApp;
  let keyDir: string;

  beforeAll(async () => {
    app = await startTestApp();
    keyDir = mkdtempSync(join(tmpdir(), 'capa-deploy-test-'));
  });

  afterAll(async () => {
    await app?.close();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  describe('Kubernetes manifests', () => {
    it('parse, and the kustomization lists every manifest except the example Secret', () => {
      for (const { file, doc } of manifests) {
        expect({ file, apiVersion: typeof doc.apiVersion, kind: typeof doc.kind }).toEqual({ file, apiVersion: 'string', kind: 'string' });
      }
      const files = new Set(manifests.map(({ file }) => file));
      const expected = [...files].filter((file) => file !== 'kustomization.yaml' && file !== EXAMPLE_SECRET_FILE).sort();
      expect([...kustomization.resources].sort()).toEqual(expected);
      // Images are set in one place, so the Job and the Deployment move to a new release together.
      const images = (kustomization.images as Obj[]).map((image) => image.name).sort();
      expect(images).toEqual([imageName(container.image), imageName(jobContainer.image)].sort());
    });

    it('the example Secret holds placeholders only, for every key the manifests reference', () => {
      const values = exampleSecret.stringData as Record<string, string>;
      expect(exampleSecret.data).toBeUndefined();
      for (const [key, value] of Object.entries(values)) expect({ key, placeholder: value.includes('REPLACE_ME') }).toEqual({ key, placeholder: true });
      for (const { secret, key } of [...secretReferences(container, podSpec), ...secretReferences(jobContainer, job.spec.template.spec)]) {
        expect({ secret, key, inExample: key in values }).toEqual({ secret: exampleSecret.metadata.name, key, inExample: true });
      }
    });

    it('every variable the Deployment, the Job and docker-compose.yml set is one the configuration reads', () => {
      const named = [
        ...environmentNames(container),
        ...environmentNames(jobContainer),
        ...Object.keys(composeService.environment as Obj),
      ];
      expect(named.filter((name) => !CONFIG_VARIABLES.has(name))).toEqual([]);
    });

    it('give the production configuration everything it requires', () => {
      const env = podEnvironment(container, podSpec, keyDir);
      expect(env.NODE_ENV).toBe('production');
      const config = loadAppConfig(env);
      expect(config.isProduction).toBe(true);
      expect(config.sandboxMode).toBe(false);
      expect(config.usesDevTokens).toBe(false);
      expect(config.capaPartnerApiKey).toBe(placeholder(exampleSecret.metadata.name, 'CAPA_PARTNER_API_KEY'));
      // The key comes from the mounted file, never from the environment.
      expect(Object.keys(env)).not.toContain('CAPA_PARTNER_API_KEY');
    });

    it('probes and the scrape annotation use the container port named http, which is the port the app listens on', () => {
      const config = loadAppConfig(podEnvironment(container, podSpec, keyDir));
      const http = (container.ports as Obj[]).find((port) => port.name === 'http');
      expect(http?.containerPort).toBe(config.port);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        expect({ probe, port: container[probe].httpGet.port }).toEqual({ probe, port: 'http' });
      }
      expect(Number(deployment.spec.template.metadata.annotations['prometheus.io/port'])).toBe(config.port);
    });

    it('probe paths and the scrape path are routes the app serves; liveness never looks at the database', async () => {
      const live = await app.call('GET', container.livenessProbe.httpGet.path);
      expect(live.status).toBe(200);
      expect(JSON.stringify(live.body)).not.toContain('database');
      expect((await app.call('GET', container.startupProbe.httpGet.path)).status).toBe(200);
      const ready = await app.call('GET', container.readinessProbe.httpGet.path);
      expect(ready.status).toBe(200);
      expect(ready.body.details).toHaveProperty('database');
      expect((await app.call('GET', deployment.spec.template.metadata.annotations['prometheus.io/path'])).status).toBe(200);
    });

    it('the Service and the PDB select the Deployment’s pods and not the Job’s', () => {
      const podLabels = deployment.spec.template.metadata.labels as Obj;
      const jobLabels = job.spec.template.metadata.labels as Obj;
      expect(podLabels).toMatchObject(deployment.spec.selector.matchLabels);
      for (const selector of [service.spec.selector, pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels]) {
        expect(podLabels).toMatchObject(selector);
        expect(selects(selector, jobLabels)).toBe(false);
      }
      const targetPorts = (service.spec.ports as Obj[]).map((port) => port.targetPort);
      expect(targetPorts).toEqual(['http']);
      expect((container.ports as Obj[]).map((port) => port.name)).toContain('http');
    });

    it('rolling updates and drains keep replicas serving', () => {
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(3);
      expect(deployment.spec.strategy.type).toBe('RollingUpdate');
      expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      const allowedDown = pdb.spec.maxUnavailable ?? deployment.spec.replicas - pdb.spec.minAvailable;
      expect(allowedDown).toBeGreaterThanOrEqual(1);
      expect(allowedDown).toBeLessThan(deployment.spec.replicas);
    });

    it('the kubelet waits for the preStop sleep plus the app’s own drain before killing', () => {
      const config = loadAppConfig(podEnvironment(container, podSpec, keyDir));
      const preStop = container.lifecycle.preStop;
      const sleepSeconds = preStop.sleep?.seconds ?? Number(preStop.exec.command[preStop.exec.command.length - 1]);
      expect(sleepSeconds).toBeGreaterThanOrEqual(3);
      expect(podSpec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(sleepSeconds * 1000 + config.shutdownGraceMs);
    });

    it('pods run as non-root on a read-only root filesystem with a writable /tmp, and have resources', () => {
      for (const [spec, c] of [
        [podSpec, container],
        [job.spec.template.spec, jobContainer],
      ] as const) {
        expect(spec.securityContext.runAsNonRoot).toBe(true);
        expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        const tmp = (c.volumeMounts as Obj[]).find((mount) => mount.mountPath === '/tmp');
        expect((spec.volumes as Obj[]).find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
        expect(Object.keys(c.resources.requests).sort()).toEqual(['cpu', 'memory']);
        expect(c.resources.limits.memory).toBeDefined();
      }
    });

    it('the Job runs prisma migrate deploy from the migrator target on the same database; the Deployment leaves migrations to it', () => {
      expect(jobContainer.command.join(' ')).toMatch(/prisma migrate deploy$/);
      expect(job.spec.template.spec.restartPolicy).toBe('Never');
      expect(dockerfile.map((stage) => stage.name)).toContain('migrator');
      const migrator = dockerfile.find((stage) => stage.name === 'migrator')!;
      expect(jobContainer.command[0]).toBe(jsonArgs(migrator, 'CMD')[0]);
      expect(envSource(jobContainer, 'DATABASE_URL')).toEqual(envSource(container, 'DATABASE_URL'));
      expect(loadAppConfig(podEnvironment(container, podSpec, keyDir)).migrateOnBoot).toBe(false);
      // `prisma migrate deploy` and the service's boot-time migrator must read the same directory.
      expect(prismaConfig.migrations?.path).toBe(relative(ROOT, DEFAULT_MIGRATIONS_DIR));
    });
  });

  describe('docker-compose.yml', () => {
    const env = composeEnvironment(composeService.environment as Obj);

    it('builds the runtime stage and publishes the port the app listens on', () => {
      const config = loadAppConfig(env);
      const target = composeService.build.target ?? runtimeStage.name;
      expect(target).toBe(runtimeStage.name);
      expect(composeService.ports.map((port: string) => Number(port.split(':').pop()))).toEqual([config.port]);
    });

    it('starts with a configuration that passes validation (built-in sandbox, PostgreSQL from compose)', () => {
      const config = loadAppConfig(env);
      expect(config.databaseUrl).toMatch(/^postgresql:\/\//);
      const database = new URL(config.databaseUrl!).hostname;
      expect(Object.keys(compose.services)).toContain(database);
      expect(composeService.depends_on[database].condition).toBe('service_healthy');
      expect(compose.services[database].healthcheck.test).toBeDefined();
    });

    it('health-checks a route the app serves, and lets it drain before SIGKILL', async () => {
      const config = loadAppConfig(env);
      const [path] = urlPaths(composeService.healthcheck.test.join(' '));
      expect((await app.call('GET', path)).status).toBe(200);
      expect(seconds(composeService.stop_grace_period) * 1000).toBeGreaterThan(config.shutdownGraceMs);
    });
  });

  describe('Dockerfile', () => {
    it('builds in stages on Node 24, the engines version', () => {
      expect(dockerfile.length).toBeGreaterThanOrEqual(3);
      const nodeMajor = Number(/node:(\d+)/.exec(runtimeStage.from)?.[1]);
      expect(nodeMajor).toBe(Number(/\d+/.exec(packageJson.engines.node)?.[0]));
      const build = stageRuns(dockerfile).join('\n');
      expect(build).toMatch(/npm ci/);
      expect(build).toMatch(/npm run build/);
      expect(build).toMatch(/npm prune --omit=dev --omit=optional/);
    });

    it('runs the runtime stage (the default target) as non-root with NODE_ENV=production and `npm start`’s command', () => {
      const user = instruction(runtimeStage, 'USER');
      expect(user).toBeDefined();
      expect(['root', '0'].includes(user!.split(':')[0])).toBe(false);
      expect(runtimeStage.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ')).toMatch(/\bNODE_ENV=production\b/);
      expect(jsonArgs(runtimeStage, 'CMD')).toEqual(packageJson.scripts.start.split(/\s+/));
      expect(Number(instruction(runtimeStage, 'EXPOSE'))).toBe(loadAppConfig({}).port);
    });

    it('ships dist whole, the migrations the boot-time migrator reads, and production dependencies only', () => {
      const copies = runtimeStage.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')));
      const sources = copies.map((args) => args.slice(0, -1).join(' '));
      // dist/ as a whole: static assets the build puts there (e.g. the operator page) come along.
      expect(sources).toEqual(expect.arrayContaining(['/app/dist', '/app/package.json', '/app/node_modules']));
      const migrationsRoot = relative(ROOT, DEFAULT_MIGRATIONS_DIR).split('/')[0];
      expect(sources).toContain(`/app/${migrationsRoot}`);
      const modules = runtimeStage.instructions.find((i) => i.keyword === 'COPY' && i.args.includes('/app/node_modules'))!;
      const source = dockerfile.find((stage) => stage.name === /--from=(\S+)/.exec(modules.args)?.[1])!;
      expect(stageRuns([source]).join('\n')).toMatch(/--omit=dev/);
    });

    it('copies into the build stage every file `npm run build` names', () => {
      const build = dockerfile.find((stage) => stageRuns([stage]).some((run) => run.includes('npm run build')))!;
      const copied = build.instructions
        .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
      const named = npmScript('build')
        .split(/[\s;&|]+/)
        .filter((token) => token !== '' && !token.startsWith('dist') && existsSync(join(ROOT, token)));
      for (const path of named) {
        expect({ path, copied: copied.some((source) => path === source || path.startsWith(`${source.replace(/\/$/, '')}/`)) }).toEqual({ path, copied: true });
      }
    });

    it('health-checks a route the app serves', async () => {
      const [path] = urlPaths(instruction(runtimeStage, 'HEALTHCHECK')!);
      expect((await app.call('GET', path)).status).toBe(200);
    });

    it('.dockerignore keeps secrets and local state out without hiding what the build copies', () => {
      const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'));
      expect(ignored).toEqual(expect.arrayContaining(['.env', '.git', '.data', 'node_modules', 'dist']));
      const copied = dockerfile
        .flatMap((stage) => stage.instructions)
        .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
      for (const source of copied) {
        expect({ source, ignored: ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)) }).toEqual({ source, ignored: false });
      }
    });
  });
});

// ---- Kubernetes helpers -------------------------------------------------------------------------------------

function imageName(image: string): string {
  return image.replace(/:[^/:]+$/, '');
}

function placeholder(secret: string, key: string): string {
  return `placeholder-${secret}-${key}`;
}

function selects(selector: Obj, labels: Obj): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function configMap(name: string): Record<string, string> {
  const found = manifests.find(({ doc }) => doc.kind === 'ConfigMap' && doc.metadata.name === name);
  if (!found) throw new Error(`ConfigMap ${name} is referenced but not in deploy/kubernetes`);
  return found.doc.data;
}

function envSource(c: Obj, name: string): unknown {
  return (c.env as Obj[]).find((entry) => entry.name === name)?.valueFrom;
}

/** Every variable name a container gets: env entries, plus the keys of ConfigMaps loaded with envFrom. */
function environmentNames(c: Obj): string[] {
  const fromMaps = ((c.envFrom ?? []) as Obj[]).flatMap((source) => {
    if (source.configMapRef) return Object.keys(configMap(source.configMapRef.name)).map((key) => `${source.prefix ?? ''}${key}`);
    throw new Error(`unsupported envFrom: ${JSON.stringify(source)}`);
  });
  return [...fromMaps, ...((c.env ?? []) as Obj[]).map((entry) => entry.name)];
}

/** Secret keys a container reads, through env or through a mounted secret volume. */
function secretReferences(c: Obj, spec: Obj): { secret: string; key: string }[] {
  const fromEnv = ((c.env ?? []) as Obj[])
    .filter((entry) => entry.valueFrom?.secretKeyRef)
    .map((entry) => ({ secret: entry.valueFrom.secretKeyRef.name, key: entry.valueFrom.secretKeyRef.key }));
  const fromVolumes = ((spec.volumes ?? []) as Obj[])
    .filter((volume) => volume.secret)
    .flatMap((volume) => ((volume.secret.items ?? []) as Obj[]).map((item) => ({ secret: volume.secret.secretName, key: item.key })));
  return [...fromEnv, ...fromVolumes];
}

/**
 * The environment the container would see, with placeholder secret values; a variable pointing into a mounted
 * secret volume is redirected to a temporary file holding that secret key's placeholder.
 */
function podEnvironment(c: Obj, spec: Obj, fileDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of (c.envFrom ?? []) as Obj[]) {
    for (const [key, value] of Object.entries(configMap(source.configMapRef.name))) env[`${source.prefix ?? ''}${key}`] = String(value);
  }
  for (const entry of (c.env ?? []) as Obj[]) {
    if (entry.value !== undefined) env[entry.name] = String(entry.value);
    else if (entry.valueFrom?.secretKeyRef) env[entry.name] = placeholder(entry.valueFrom.secretKeyRef.name, entry.valueFrom.secretKeyRef.key);
    else if (entry.valueFrom?.configMapKeyRef) env[entry.name] = configMap(entry.valueFrom.configMapKeyRef.name)[entry.valueFrom.configMapKeyRef.key];
    else throw new Error(`unsupported env source for ${entry.name}`);
  }
  for (const mount of (c.volumeMounts ?? []) as Obj[]) {
    const volume = ((spec.volumes ?? []) as Obj[]).find((v) => v.name === mount.name);
    if (!volume?.secret) continue;
    for (const [name, value] of Object.entries(env)) {
      if (!value.startsWith(`${mount.mountPath}/`)) continue;
      const path = value.slice(mount.mountPath.length + 1);
      const item = ((volume.secret.items ?? []) as Obj[]).find((i) => i.path === path);
      const key = item?.key ?? path;
      const file = join(fileDir, `${name}.txt`);
      writeFileSync(file, `${placeholder(volume.secret.secretName, key)}\n`);
      env[name] = file;
    }
  }
  return env;
}

// ---- docker-compose helpers ---------------------------------------------------------------------------------

/** Compose's own interpolation with nothing exported: `${X:-default}` gives the default, `${X}` leaves X unset. */
function composeEnvironment(environment: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, raw] of Object.entries(environment)) {
    const value = String(raw).replace(/\$\{\w+(?::?-([^}]*))?\}/g, (_match, fallback: string | undefined) => fallback ?? '');
    if (value !== '') env[name] = value;
  }
  return env;
}

function seconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`unsupported duration ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

/** Absolute paths in a health-check command: from a URL, or a quoted '/path' literal. */
function urlPaths(text: string): string[] {
  const fromUrls = [...text.matchAll(/https?:\/\/[^/'"\s]+(\/[^'"\s)]*)/g)].map((m) => m[1]);
  const fromLiterals = [...text.matchAll(/['"](\/[\w\-/]+)['"]/g)].map((m) => m[1]);
  const paths = [...fromUrls, ...fromLiterals];
  if (paths.length === 0) throw new Error(`no path in health check: ${text}`);
  return paths;
}

// ---- Dockerfile helpers -------------------------------------------------------------------------------------

/** A package.json script with every `npm run x` inside it expanded. */
function npmScript(name: string): string {
  const script = packageJson.scripts[name] as string;
  return script.replace(/npm run ([\w:-]+)/g, (_match, inner: string) => npmScript(inner));
}

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

/** Enough of the Dockerfile grammar for these checks: continuations, comments, ARG defaults in FROM. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.replace(/\s+/g, ' ') };
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = instruction.args.split('=');
      args[name] = value ?? '';
    } else if (instruction.keyword === 'FROM') {
      const [image, , name] = instruction.args.replace(/\$\{(\w+)\}/g, (_m, arg: string) => args[arg] ?? '').split(' ');
      const parent = stages.find((stage) => stage.name === image);
      stages.push({ name, from: parent ? parent.from : image, instructions: parent ? [...parent.instructions] : [] });
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

/** The last value of an instruction as the stage sees it (later ones win, inherited ones count). */
function instruction(stage: Stage, keyword: string): string | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).pop()?.args;
}

function jsonArgs(stage: Stage, keyword: string): string[] {
  const args = instruction(stage, keyword);
  if (args === undefined) throw new Error(`no ${keyword} in stage ${stage.name}`);
  const json = args.startsWith('[') ? args : args.slice(args.indexOf('CMD ') + 4);
  return JSON.parse(json) as string[];
}

function stageRuns(stages: Stage[]): string[] {
  return stages.flatMap((stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args));
}
