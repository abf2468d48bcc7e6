import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const SCRIPT = join(__dirname, 'certified-oidc-provider.mjs');

/** What certified-oidc-provider.mjs is configured with (see there). */
export interface CertifiedProviderOptions {
  client: { id: string; secret: string; redirectUri: string };
  scripts: { id: string; secret: string };
  resource: string;
  audience: string;
  account: { sub: string; name: string; email: string; roles: string[] };
}

/**
 * The certified `oidc-provider` package as a child process (it is ESM only; Jest's VM does not load it): started
 * with this Node, answered when it prints its issuer URL; it also exits when its stdin (from this process) closes.
 * Its stderr is kept only to explain a failed start.
 */
export class CertifiedOidcProvider {
  private constructor(
    readonly issuer: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(options: CertifiedProviderOptions, timeoutMs = 15_000): Promise<CertifiedOidcProvider> {
    // Options (client secrets among them) in the environment, not in argv, which any local user's `ps` shows.
    const env = { PATH: process.env.PATH ?? '', CERTIFIED_OIDC_PROVIDER: JSON.stringify(options) };
    const child = spawn(process.execPath, [SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const issuer = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`oidc-provider did not start in ${timeoutMs} ms`)), timeoutMs);
        child.stdout!.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const line = stdout.split('\n');
          if (line.length > 1) {
            clearTimeout(timer);
            resolve(line[0]);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`oidc-provider exited (${code}) before listening:\n${stderr}`));
        });
      });
      return new CertifiedOidcProvider(issuer, child);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
