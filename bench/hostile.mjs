// npm run bench:hostile: what each hostile model file costs us. Every case in
// src/testing/hostile/*.ts (built by the same code the tests use) is written to a temp folder and
// given to `lineage inspect` in a child process under /usr/bin/time; the table records the file's
// size, the exit code, the wall time, the child's peak RSS and the first line of its error.
// Results: bench/results/hostile.md and hostile.json. The baseline row inspects a legal
// safetensors file of similar size, so the fixed cost of starting Node is visible.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const casesDir = join(root, 'dist', 'testing', 'hostile');
const modules = readdirSync(casesDir).filter((f) => f.endsWith('.js') && f !== 'types.js');
const cases = [];
for (const file of modules) {
  const mod = await import(join(casesDir, file));
  for (const [key, value] of Object.entries(mod)) {
    if (key.endsWith('_HOSTILE_CASES')) for (const c of value) cases.push(c);
    if (key === 'LARGE_LEGAL_FILES') for (const c of value) cases.push({ ...c, legal: true });
  }
}
const { writeSafetensors } = await import(join(root, 'dist', 'formats', 'safetensors.js'));
const { makeTensor } = await import(join(root, 'dist', 'tensor.js'));

const work = mkdtempSync(join(tmpdir(), 'lineage-hostile-'));
// Bytes on disk, symlinks counted as links (a hostile link may point at /dev/zero or at itself).
const sizeOf = (path) => {
  const s = lstatSync(path);
  if (!s.isDirectory()) return s.isFile() ? s.size : 0;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
};

function measure(path, command = 'inspect') {
  const args = command === 'compare' ? ['compare', path, path] : ['inspect', path];
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, '--max-old-space-size=4096', join(root, 'bin', 'lineage.js'), ...args], {
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 1 << 26,
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = /MAXRSS_KB=(\d+)/.exec(r.stderr ?? '');
  const lines = (r.stderr ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('MAXRSS_KB='));
  const message = lines.find((l) => l.startsWith('lineage:')) ?? lines[0] ?? '';
  return {
    exit: r.status ?? (r.signal ? `signal ${r.signal}` : 'none'),
    seconds,
    peakRssMiB: rss ? Number(rss[1]) / 1024 : null,
    message: message.slice(0, 160),
  };
}

const rows = [];
const baselinePath = join(work, 'baseline.safetensors');
await writeSafetensors(baselinePath, new Map([['w', makeTensor('float32', [256, 256], new Float32Array(256 * 256))]]));
rows.push({ name: 'baseline (legal 256 KiB safetensors)', reader: 'safetensors', bytes: sizeOf(baselinePath), ...measure(baselinePath) });
for (const c of cases) {
  const dir = join(work, c.name);
  mkdirSync(dir, { recursive: true });
  const path = await c.build(dir);
  const bytes = existsSync(path) ? sizeOf(path) : 0;
  rows.push({
    name: c.legal ? `${c.name} (legal: must load)` : c.name,
    reader: c.reader,
    threat: c.threat,
    bytes,
    command: c.command ?? 'inspect',
    ...measure(path, c.command),
  });
  process.stderr.write(`${c.name}: exit ${rows.at(-1).exit}, ${rows.at(-1).seconds.toFixed(2)} s, ${rows.at(-1).peakRssMiB?.toFixed(0)} MiB\n`);
}
rmSync(work, { recursive: true, force: true });

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
const out = new URL('results/', import.meta.url);
writeFileSync(
  new URL('hostile.json', out),
  `${JSON.stringify({ command: 'npm run bench:hostile', machine, date: new Date().toISOString(), rows }, null, 2)}\n`,
);
const f = (x, d) => (typeof x === 'number' ? x.toFixed(d) : 'n/a');
const lines = [
  '# Hostile model files: what each costs (`npm run bench:hostile`)',
  '',
  `Machine: ${machine}. Each file is built by src/testing/hostile/*.ts (the same builders the tests use) and given to \`lineage inspect\` in a fresh Node process; wall time and peak RSS (from /usr/bin/time) include Node's start-up, shown by the baseline row.`,
  '',
  '| case | reader | file size | exit | seconds | peak RSS (MiB) | message |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.reader} | ${r.bytes.toLocaleString('en-US')} B | ${r.exit} | ${f(r.seconds, 2)} | ${f(r.peakRssMiB, 0)} | ${r.message.replaceAll('|', '\\|').replaceAll(work, '<tmp>')} |`,
  ),
  '',
];
writeFileSync(new URL('hostile.md', out), lines.join('\n'));
process.stdout.write(lines.join('\n'));
