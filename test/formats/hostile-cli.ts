/**
 * Runs the built CLI on a hostile file as a user would, in a child process under generous caps on
 * wall time, heap and resident memory (generous so a loaded machine cannot make the tests flaky;
 * `npm run bench:hostile` measures the real costs), and checks how it refused the file.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'lineage.js');
export const WALL_CAP_MS = 30_000;
export const HEAP_CAP_MB = 1024;
export const RSS_CAP_KB = 1024 * 1024;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident memory of the child; Infinity when it died without running its exit handlers. */
  maxRssKb: number;
}

const scratch = mkdtempSync(join(tmpdir(), 'lineage-hostile-cli-'));
// Preloaded into the CLI: writes its peak resident memory when it exits, however it exits.
const rssReporter = join(scratch, 'report-rss.cjs');
writeFileSync(rssReporter, "process.on('exit', () => require('node:fs').writeFileSync(process.env.RSS_REPORT, String(process.resourceUsage().maxRSS)));\n");
let runs = 0;

/** `lineage ...args` under the caps; the timeout kills a child that hangs (on a FIFO, say), so a regression fails instead of stalling. */
export function runCapped(...args: string[]): Promise<CliRun> {
  const rssReport = join(scratch, `run-${runs++}.rss`);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [`--max-old-space-size=${HEAP_CAP_MB}`, '--require', rssReporter, CLI, ...args],
      { env: { ...process.env, RSS_REPORT: rssReport }, timeout: 2 * WALL_CAP_MS, maxBuffer: 1 << 28 },
      (_error, stdout, stderr) => {
        let maxRssKb = Number.POSITIVE_INFINITY;
        try {
          maxRssKb = Number(readFileSync(rssReport, 'utf8'));
        } catch {
          // no report: the process died without running its exit handlers
        }
        resolve({ code: child.exitCode, stdout, stderr, ms: performance.now() - started, maxRssKb });
      },
    );
  });
}

/** Refused with exit 1 in one line that starts with `lineage: <named>` and matches `problem`: no crash text, within the caps. */
export function expectRefusal(r: CliRun, named: string, problem: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.startsWith(`lineage: ${named}`), r.stderr).toBe(true);
  expect(r.stderr.trim().split('\n'), 'one line, no stack trace').toHaveLength(1);
  expect(r.stderr).toMatch(problem);
  expect(r.stderr).not.toMatch(/Maximum call stack|Invalid typed array length|RangeError|heap out of memory/);
  expect(r.ms).toBeLessThan(WALL_CAP_MS);
  expect(r.maxRssKb).toBeLessThan(RSS_CAP_KB);
}

/** A fresh folder per hostile case, under one temp folder per test file. */
export function caseFolders(prefix: string): (name: string) => string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return (name) => {
    const dir = join(root, name);
    mkdirSync(dir);
    return dir;
  };
}
