#!/usr/bin/env node
// Builds dist/: the Prisma client and the OpenAPI metadata (src/generated), a clean TypeScript compile, the operator
// page's static files.
//
//   node scripts/build.js               always builds (npm run build, npm test)
//   node scripts/build.js --if-changed  skips when dist/ was built from exactly these sources (npm start)
//
// Builds of one checkout take turns (a lock directory with the builder's pid; a dead builder's lock is taken over), so
// two `npm start` at once never see each other's half-written src/generated or dist/; the second finds dist/ current.
const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const LOCK = path.join(ROOT, '.build.lock');
const STAMP = path.join(ROOT, 'dist', '.build-stamp');
/** What dist/ is made from: a change to any of these rebuilds it. */
const INPUTS = ['src', 'prisma/schema.prisma', 'prisma.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.js', 'scripts/prisma-generate.js', 'scripts/openapi-metadata.js'];
const LOCK_WAIT_MS = 10 * 60_000;

function main() {
  const ifChanged = process.argv.includes('--if-changed');
  const release = acquireLock();
  try {
    const fingerprint = sourcesFingerprint();
    if (ifChanged && readStamp() === fingerprint) {
      console.log('dist/ is up to date with the sources: not rebuilt');
      return;
    }
    run(process.execPath, [path.join(ROOT, 'scripts', 'prisma-generate.js')]);
    // The OpenAPI schemas of the response classes (src/generated/openapi-metadata.ts): @nestjs/swagger's plugin.
    run(process.execPath, [path.join(ROOT, 'scripts', 'openapi-metadata.js')]);
    fs.rmSync(path.join(ROOT, 'dist'), { recursive: true, force: true });
    run(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-p', path.join(ROOT, 'tsconfig.build.json')]);
    fs.cpSync(path.join(ROOT, 'src', 'admin', 'ui'), path.join(ROOT, 'dist', 'admin', 'ui'), { recursive: true });
    fs.writeFileSync(STAMP, fingerprint);
  } finally {
    release();
  }
}

/** sha256 over the inputs' paths and contents (src/generated excluded: it is an output). */
function sourcesFingerprint() {
  const hash = createHash('sha256');
  const visit = (relative) => {
    const absolute = path.join(ROOT, relative);
    if (!fs.existsSync(absolute) || relative === path.join('src', 'generated')) return;
    if (fs.statSync(absolute).isDirectory()) {
      for (const entry of fs.readdirSync(absolute).sort()) visit(path.join(relative, entry));
      return;
    }
    hash.update(relative).update('\0').update(fs.readFileSync(absolute)).update('\0');
  };
  INPUTS.forEach(visit);
  return hash.digest('hex');
}

function readStamp() {
  try {
    return fs.readFileSync(STAMP, 'utf8');
  } catch {
    return undefined;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`${path.basename(args[0])} failed (exit ${result.status ?? result.signal})`);
}

/** Takes the checkout's build lock, waiting for a live builder; answers its release. */
function acquireLock() {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let waiting = false;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      const release = () => fs.rmSync(LOCK, { recursive: true, force: true });
      process.once('SIGINT', () => {
        release();
        process.exit(130);
      });
      return release;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    if (!holderAlive()) {
      fs.rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another build of this checkout has held ${LOCK} for ${LOCK_WAIT_MS / 60_000} minutes`);
    if (!waiting) console.log('Another build of this checkout is running: waiting for it');
    waiting = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

function holderAlive() {
  let pid;
  try {
    pid = Number(fs.readFileSync(path.join(LOCK, 'pid'), 'utf8'));
  } catch {
    // Just created by a builder that has not written its pid yet: alive unless the lock is old.
    try {
      return Date.now() - fs.statSync(LOCK).mtimeMs < 5000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

try {
  main();
} catch (error) {
  console.error(`build failed: ${error.message}`);
  process.exit(1);
}
