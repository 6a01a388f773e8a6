import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { registerInspect } from './commands/inspect.js';
import { registerFeatures } from './commands/features.js';
import { registerDetect } from './commands/detect.js';
import { registerLayers } from './commands/layers.js';
import { registerZoo } from './commands/zoo.js';
import { registerTree } from './commands/tree.js';
import { registerAncestors } from './commands/ancestors.js';
import { registerDemo } from './commands/demo.js';
import { registerDetector } from './commands/detector.js';
import { registerBench } from './commands/bench.js';
import { registerCompare } from './commands/compare.js';
import { registerExplain } from './commands/explain.js';
import { registerCheck } from './commands/check.js';
import { takeRequestedExitCode } from './exit-code.js';
import { InputError } from '../base/errors.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lineage')
    .description('Which model was this network fine-tuned from? Detect parents, ancestors and family trees of neural networks from their weights and features.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    // Commander's own usage errors ("error: unknown option '--x'") read like every other failure.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'lineage: ')) })
    .exitOverride();
  registerInspect(program);
  registerFeatures(program);
  registerDetect(program);
  registerLayers(program);
  registerZoo(program);
  registerTree(program);
  registerAncestors(program);
  registerDetector(program);
  registerBench(program);
  registerCompare(program);
  registerExplain(program);
  registerCheck(program);
  registerDemo(program);
  return program;
}

/**
 * Runs the CLI and returns the exit code: 0 on success (and for --help, --version), 1 for bad
 * input files and failures, 2 for bad usage, or what a command asked for (check: 3, 4). Expected failures print one line, not a stack trace.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return takeRequestedExitCode();
  } catch (err) {
    // Commander has printed its message already; every error it raises (unknown command or
    // option, missing argument or option, invalid choice, no command) is a usage error. Help and
    // version exit 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`lineage: ${err.message}\n`);
      return 2;
    }
    // Every failure is reported in one line; LINEAGE_DEBUG=1 adds the stack for bug reports.
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`lineage: ${message}\n`);
    if (process.env.LINEAGE_DEBUG && err instanceof Error && !(err instanceof InputError)) process.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}
