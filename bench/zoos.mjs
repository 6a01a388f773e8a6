/**
 * The zoos the benchmarks build and measure (bench:tree builds them into bench/.cache/tree-zoos;
 * bench:auto and bench:aligned read them there), at scales chosen from `lineage zoo plan` so that
 * each build fits about 10 minutes on 2 cores; `why` is printed with the results.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export const BENCH_ZOOS = [
  { name: 'demo', spec: 'zoos/demo.json', scale: 1, why: '3 MLP roots (784-256-128-10), 3 children each' },
  {
    name: 'generations-fc',
    spec: 'zoos/generations-fc.json',
    scale: 0.67,
    why: 'MLP 784-1024-256-128-10, 3 roots, two children per parent over 3 generations (3 + 6 + 12 + 24)',
  },
  { name: 'paper-fc', spec: 'zoos/paper-fc.json', scale: 0.1, why: 'MLP 784-1024-256-128-10, 5 roots, 10 children each, one generation' },
  {
    name: 'generations',
    spec: 'zoos/generations.json',
    scale: 0.34,
    why: 'convnet 16-32-64 with BatchNorm, 3 roots, one child per parent over 3 generations (chains of 4)',
  },
  {
    name: 'twins-fc',
    spec: 'zoos/twins-fc.json',
    scale: 1,
    why: 'MLP 784-256-128-10, 3 roots, 4 children each: two same-task twins on each of 2 tasks (issue 18)',
  },
  {
    name: 'twins-cnn',
    spec: 'zoos/twins-cnn.json',
    scale: 1,
    why: 'convnet 16-32-64 with BatchNorm, 2 roots, 4 children each: two same-task twins on each of 2 tasks (issue 18)',
  },
  {
    name: 'settings',
    spec: 'zoos/settings.json',
    scale: 0.34,
    why: 'convnet 16-32-64, 3 roots, 3 children each over learning settings (few-shot, imbalanced, partial), at a third of the full build',
  },
];

/** The zoos named in the environment variable `variable` (comma list), or `all`; an unknown name is an error. */
export function selectedZoos(variable, all) {
  const only = process.env[variable]?.split(',').map((s) => s.trim());
  if (!only) return all;
  const unknown = only.filter((n) => !all.some((z) => z.name === n));
  if (unknown.length > 0) throw new Error(`${variable}: unknown zoo(s) ${unknown.join(', ')}; known: ${all.map((z) => z.name).join(', ')}`);
  return all.filter((z) => only.includes(z.name));
}

/** Writes through a temporary file and a rename: never half-written. */
export function writeAtomic(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The command that reproduces a run (with the zoo selection it was given) and the machine it ran on. */
export function runContext(variable, script) {
  const only = process.env[variable];
  const command = only ? `${variable}=${only} npm run ${script}` : `npm run ${script}`;
  const text = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at the end ${loadavg()[0].toFixed(1)}`;
  const json = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0].model, memoryGiB: totalmem() / 2 ** 30, loadAverage: loadavg()[0] };
  return { command, machine: text, machineJson: json };
}
