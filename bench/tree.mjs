// npm run bench:tree: how well each weight method recovers the family tree of a zoo (issue 18).
// Builds (or reuses) zoos with known lineage under bench/.cache/tree-zoos/<name> with the built CLI,
// then runs the library's recoverTree with each of weights-l2, weights-cos, weights-rel and scores
// the tree against the manifest's parent links with treeEdgeAccuracy. The tree options are the
// library's defaults, which are also `lineage tree`'s: only the method changes between rows.
// Writes bench/results/tree.{md,json}.
//
//   BENCH_TREE_ZOOS=demo,paper-fc   only these zoos (by name; results then say which ran)
//   BENCH_TREE_CACHE=DIR            where the zoos are built (default bench/.cache/tree-zoos)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeEdgeAccuracy } from '../dist/lineage/tree/accuracy.js';
import { DEFAULT_DIRECTION, DEFAULT_DIRECTION_STRENGTH, DEFAULT_RELATED_DISTANCE } from '../dist/lineage/tree/build.js';
import { PairCache } from '../dist/lineage/tree/pair-cache.js';
import { recoverTree } from '../dist/lineage/tree/recover.js';
import { readZooSpec } from '../dist/train/zoo-file.js';
import { planZoo } from '../dist/train/zoo-spec.js';
import { readZooManifest } from '../dist/zoo/manifest.js';
import { BENCH_ZOOS, runContext, selectedZoos, writeAtomic } from './zoos.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = process.env.BENCH_TREE_CACHE ?? join(root, 'bench', '.cache', 'tree-zoos');
const resultsDir = join(root, 'bench', 'results');
const METHODS = ['weights-l2', 'weights-cos', 'weights-rel'];
const WORKERS = 2;

/** The manifest's model count and scale when DIR holds one, else undefined (a build not begun). */
function manifestState(dir) {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8'));
    return { models: Array.isArray(m.models) ? m.models.length : 0, scale: m.zoo?.scale };
  } catch {
    return undefined; // a torn manifest: the builder's resume decides what to keep
  }
}

/** Runs the built CLI, echoing its output, and resolves with its exit code and full stderr. */
function runCli(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'lineage.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (d) => process.stdout.write(d));
    child.stderr.on('data', (d) => {
      stderr += d;
      process.stderr.write(d);
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** Builds the zoo unless its folder already holds every planned model at this scale. */
async function ensureZoo(zoo) {
  const dir = join(cacheDir, zoo.name);
  const timing = join(cacheDir, `${zoo.name}.build.json`);
  const planned = planZoo(await readZooSpec(join(root, zoo.spec)), zoo.scale, zoo.spec).length;
  const state = manifestState(dir);
  if (state && state.scale !== zoo.scale) {
    throw new Error(`${relative(root, dir)} holds a zoo built at --scale ${state.scale}, not ${zoo.scale}: delete the folder to rebuild it`);
  }
  if (state && state.models === planned) {
    const earlier = existsSync(timing) ? JSON.parse(readFileSync(timing, 'utf8')) : undefined;
    return { dir, planned, reused: true, buildSeconds: earlier?.seconds ?? null };
  }
  mkdirSync(cacheDir, { recursive: true });
  const args = ['zoo', 'build', zoo.spec, '--out', dir, '--scale', String(zoo.scale), '--workers', String(WORKERS), '--no-progress'];
  console.log(`building ${zoo.name} (${planned} models): node bin/lineage.js ${args.join(' ')}`);
  const t0 = performance.now();
  const { code, signal, stderr } = await runCli(args);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0)
    return { dir, planned, reused: false, buildSeconds: seconds, error: stderr.trim() || `exit code ${code}${signal ? `, signal ${signal}` : ''}` };
  // A resumed build counts only the time of this run; the note says so.
  writeAtomic(timing, `${JSON.stringify({ seconds, resumed: state !== undefined, workers: WORKERS, cpus: cpus().length, at: new Date().toISOString() })}\n`);
  return { dir, planned, reused: false, resumed: state !== undefined, buildSeconds: seconds };
}

/** Families trained elsewhere (PyTorch): the committed fixture, and the zoos `npm run bench:tree-zoos` writes when present. */
const EXTERNAL_ALL = [
  {
    name: 'tree-twins',
    dir: join(root, 'fixtures', 'tree-twins'),
    why: 'PyTorch MLP 196-48-24-10 (fixtures/tree-twins, scripts/make_tree_fixtures.py): 1 root, 3 tasks x 2 twins, 3 grandchildren',
  },
  ...['pt-twins-mlp', 'pt-deep-mlp', 'pt-twins-cnn', 'pt-missing-mlp'].map((name) => ({
    name,
    dir: join(root, 'bench', '.cache', 'pt-zoos', name),
    why: `PyTorch-trained (scripts/make_tree_zoos.py, \`npm run bench:tree-zoos\`), see its manifest`,
  })),
];

/** The zoos this benchmark builds (bench/zoos.mjs; settings is measured by bench:auto only), then those trained elsewhere. */
const BUILT = BENCH_ZOOS.filter((z) => ['demo', 'generations-fc', 'paper-fc', 'generations', 'twins-fc', 'twins-cnn'].includes(z.name));
const SELECTED = selectedZoos('BENCH_TREE_ZOOS', [...BUILT, ...EXTERNAL_ALL]);
const ZOOS = SELECTED.filter((z) => BUILT.includes(z));
const EXTERNAL = SELECTED.filter((z) => EXTERNAL_ALL.includes(z));

/**
 * Parents missing from the set: each model with children is left out in turn (the first `limit`
 * such), the tree is recovered from the rest, and each of its children is counted as a root, as
 * flagged (parent_may_be_missing), hung under an ancestor of its missing parent, or hung under
 * anything else without a flag (the failure the issue names).
 */
async function missingParents(refs, truth, limit) {
  const parentOf = new Map(truth.map((t) => [t.id, t.parent]));
  const withChildren = [...new Set(truth.map((t) => t.parent).filter((p) => p !== null))].slice(0, limit);
  const counts = { dropped: withChildren.length, children: 0, root: 0, flagged: 0, ancestor: 0, unflaggedElsewhere: 0 };
  // The runs share their pairs: each compares only what an earlier one did not.
  const cacheDir = mkdtempSync(join(tmpdir(), 'bench-tree-pairs-'));
  const cache = await PairCache.open(cacheDir);
  for (const gone of withChildren) {
    const tree = await recoverTree(
      refs.filter((r) => r.id !== gone),
      { method: 'weights-cos', relations: false, cache },
    );
    const ancestors = new Set();
    for (let a = parentOf.get(gone); a; a = parentOf.get(a)) ancestors.add(a);
    for (const t of truth.filter((x) => x.parent === gone)) {
      counts.children++;
      const edge = tree.edges.find((e) => e.child === t.id);
      if (!edge) counts.root++;
      else if (edge.parent_may_be_missing) counts.flagged++;
      else if (ancestors.has(edge.parent)) counts.ancestor++;
      else counts.unflaggedElsewhere++;
    }
  }
  rmSync(cacheDir, { recursive: true, force: true });
  return counts;
}

async function scoreZoo(dir, { external = false } = {}) {
  const zoo = await readZooManifest(dir);
  const refs = zoo.models.map(({ entry, path }) => ({ id: entry.id, path }));
  const truth = zoo.models.map(({ entry }) => ({ id: entry.id, parent: entry.parent }));
  const rows = [];
  const variants = [
    ...METHODS.map((method) => ({ method, label: method })),
    { method: 'weights-cos', label: 'weights-cos, no twin pass', separateTwins: false },
  ];
  for (const { method, label, separateTwins } of variants) {
    const t0 = performance.now();
    const tree = await recoverTree(refs, { method, ...(separateTwins === false ? { separateTwins } : {}) });
    const seconds = (performance.now() - t0) / 1000;
    const a = treeEdgeAccuracy(tree, truth);
    rows.push({
      method: label,
      correct: a.correct,
      total: a.total,
      accuracy: a.accuracy,
      reversed: a.reversed,
      placement: a.undirectedAccuracy,
      rootsFound: tree.roots.length,
      rootsCorrect: a.rootsCorrect,
      rootsTotal: a.rootsTotal,
      excluded: tree.excluded.length,
      seconds,
    });
    console.log(
      `  ${label}: ${a.correct}/${a.total} directed, placement ${(100 * a.undirectedAccuracy).toFixed(1)}%, roots ${tree.roots.length} found (${a.rootsCorrect}/${a.rootsTotal} right), ${seconds.toFixed(2)} s`,
    );
  }
  const missing = external ? await missingParents(refs, truth, 3) : undefined;
  if (missing) console.log(`  missing parents: ${JSON.stringify(missing)}`);
  return { models: zoo.models.length, rows, ...(missing ? { missing } : {}) };
}

const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');

function markdown(results, machine, command, totalSeconds) {
  const out = [
    '# bench:tree — family-tree recovery by weight method',
    '',
    `Machine: ${machine}. Command: \`${command}\`. Took ${totalSeconds.toFixed(0)} s.`,
    '',
    'Each zoo is built with `node bin/lineage.js zoo build SPEC --scale S --workers 2` (or reused from the cache when it holds every planned model);',
    "then the library's `recoverTree(refs, { method })` with every other option at its default (the same defaults as `lineage tree`: direction",
    `${JSON.stringify(DEFAULT_DIRECTION)}, strength ${DEFAULT_DIRECTION_STRENGTH}, root threshold auto, related distance ${DEFAULT_RELATED_DISTANCE}) and \`treeEdgeAccuracy\` against the manifest's parent links.`,
    'Directed: true edges recovered with the right parent and direction. Placement: right pair, either direction. Roots: roots the tree has (true roots recovered as roots / true roots).',
    'Seconds: the whole `recoverTree` call (reading the models, scoring every pair, building the forest); the first method also warms the file cache.',
    '',
  ];
  for (const r of results) {
    out.push(`## ${r.name} (\`${r.spec}\`, --scale ${r.scale}${r.models !== undefined ? `, ${r.models} models` : ''})`, '', `${r.why}.`, '');
    const build = r.reused
      ? `Build: reused from the cache${r.buildSeconds != null ? ` (built earlier in ${r.buildSeconds.toFixed(0)} s)` : ''}.`
      : `Build: ${r.buildSeconds.toFixed(0)} s${r.resumed ? ' (resumed an earlier partial build: this run only)' : ''}.`;
    out.push(build, '');
    if (r.error) {
      out.push('The build failed:', '', '```', r.error, '```', '');
      continue;
    }
    out.push('| method | directed edges | placement | reversed | roots found (true roots right) | seconds |', '|---|---:|---:|---:|---:|---:|');
    for (const m of r.rows) {
      out.push(
        `| ${m.method} | ${m.correct}/${m.total} (${pct(m.accuracy)}) | ${pct(m.placement)} | ${m.reversed} | ${m.rootsFound} (${m.rootsCorrect}/${m.rootsTotal}) | ${m.seconds.toFixed(2)} |`,
      );
    }
    out.push('');
    if (r.missing) {
      const m = r.missing;
      out.push(
        `Parents left out (${m.dropped} models with children, one at a time): of their ${m.children} children, ${m.root} became roots, ${m.flagged} were flagged \`parent_may_be_missing\`, ${m.ancestor} hung under an ancestor of the missing parent, ${m.unflaggedElsewhere} hung elsewhere without a flag (weights-cos).`,
        '',
      );
    }
  }
  const scored = results.filter((r) => r.rows);
  if (scored.length > 1) {
    out.push('## All zoos together', '', '| method | directed edges | placement | true roots right |', '|---|---:|---:|---:|');
    for (const method of [...METHODS, 'weights-cos, no twin pass']) {
      const rows = scored.map((r) => r.rows.find((m) => m.method === method));
      const sum = (k) => rows.reduce((s, m) => s + m[k], 0);
      const total = sum('total');
      out.push(
        `| ${method} | ${sum('correct')}/${total} (${pct(sum('correct') / total)}) | ${pct((sum('correct') + sum('reversed')) / total)} | ${sum('rootsCorrect')}/${sum('rootsTotal')} |`,
      );
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

const started = performance.now();
const results = [];
for (const zoo of ZOOS) {
  const built = await ensureZoo(zoo);
  const result = { ...zoo, ...built, dir: relative(root, built.dir) };
  if (!built.error) {
    console.log(`scoring ${zoo.name}`);
    Object.assign(result, await scoreZoo(built.dir));
  } else {
    console.error(`lineage: bench:tree: the build of ${zoo.name} failed; going on with the other zoos`);
  }
  results.push(result);
}
for (const zoo of EXTERNAL) {
  if (!existsSync(join(zoo.dir, 'manifest.json'))) {
    console.log(`skipping ${zoo.name}: ${relative(root, zoo.dir)} holds no zoo (npm run bench:tree-zoos makes it)`);
    continue;
  }
  console.log(`scoring ${zoo.name} (trained elsewhere)`);
  results.push({
    name: zoo.name,
    spec: relative(root, zoo.dir),
    scale: 1,
    why: zoo.why,
    reused: true,
    buildSeconds: null,
    dir: relative(root, zoo.dir),
    ...(await scoreZoo(zoo.dir, { external: true })),
  });
}
const totalSeconds = (performance.now() - started) / 1000;
const { command, machine, machineJson } = runContext('BENCH_TREE_ZOOS', 'bench:tree');
mkdirSync(resultsDir, { recursive: true });
const json = {
  command,
  machine: machineJson,
  methods: METHODS,
  treeOptions: {
    method: METHODS,
    direction: DEFAULT_DIRECTION,
    directionStrength: DEFAULT_DIRECTION_STRENGTH,
    rootThreshold: 'auto',
    relatedDistance: DEFAULT_RELATED_DISTANCE,
  },
  seconds: totalSeconds,
  zoos: results,
};
writeAtomic(join(resultsDir, 'tree.json'), `${JSON.stringify(json, null, 2)}\n`);
writeAtomic(join(resultsDir, 'tree.md'), markdown(results, machine, command, totalSeconds));
console.log(`wrote ${relative(root, join(resultsDir, 'tree.md'))} and tree.json in ${totalSeconds.toFixed(0)} s`);
if (results.some((r) => r.error)) process.exitCode = 1;
