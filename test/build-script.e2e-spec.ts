import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, statSync, symlinkSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..');

/** Runs `node scripts/build.js ...args` in `dir`; answers its exit code and output. */
function build(dir: string, ...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dir, 'scripts', 'build.js'), ...args], { cwd: dir, env: { ...process.env, PATH: `${join(REPO, 'node_modules', '.bin')}:${process.env.PATH}` } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/**
 * `npm start` (`scripts/build.js --if-changed`) on a built, unchanged checkout does not rebuild, and two starts at once
 * in one checkout take turns instead of breaking each other's src/generated and dist/. In a copy of the checkout.
 */
describe('the build before npm start', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'capa-build-'));
    for (const entry of ['src', 'prisma', 'scripts', 'prisma.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
      cpSync(join(REPO, entry), join(dir, entry), { recursive: true, filter: (source) => !source.startsWith(join(REPO, 'src', 'generated')) });
    }
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('two builds at once both succeed, one after the other; an unchanged checkout is not rebuilt; a changed one is', async () => {
    const both = await Promise.all([build(dir, '--if-changed'), build(dir, '--if-changed')]);
    expect(both.map((result) => result.code)).toEqual([0, 0]);
    // One built; the other waited for it and found dist/ current.
    expect(both.filter((result) => result.output.includes('dist/ is up to date')).length).toBe(1);
    expect(both.some((result) => result.output.includes('Another build of this checkout is running'))).toBe(true);
    const built = statSync(join(dir, 'dist', 'main.js')).mtimeMs;

    const again = await build(dir, '--if-changed');
    expect(again.code).toBe(0);
    expect(again.output).toContain('dist/ is up to date');
    expect(statSync(join(dir, 'dist', 'main.js')).mtimeMs).toBe(built);

    appendFileSync(join(dir, 'src', 'main.ts'), '\n// changed\n');
    const changed = await build(dir, '--if-changed');
    expect(changed.code).toBe(0);
    expect(changed.output).not.toContain('dist/ is up to date');
    expect(statSync(join(dir, 'dist', 'main.js')).mtimeMs).toBeGreaterThan(built);
  }, 180_000);
});
