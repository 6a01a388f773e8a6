/**
 * Runs `lineage zoo ...` the way a user does: `node bin/lineage.js` (which runs dist/, so
 * `npm run build` first) in a child process, with its heap capped so a runaway plan fails fast.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'lineage.js');

/** dist/ files the CLI needs that are missing (empty when it is built). */
export function missingDist(): string[] {
  return ['dist/cli/main.js', 'dist/train/zoo-lock.js', 'dist/train/worker.js'].filter((f) => !existsSync(join(ROOT, f)));
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lineage-zoo-'));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function startLineage(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--max-old-space-size=1024', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function exited(child: ChildProcess): Promise<Exit> {
  const started = performance.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 })),
  );
}

export function lineage(...args: string[]): Promise<Exit> {
  return exited(startLineage(args));
}
