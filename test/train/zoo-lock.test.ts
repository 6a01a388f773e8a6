/**
 * DIR/.lock: one build at a time per zoo folder. Unit tests take the lock in this process; the CLI
 * test runs two real builds on one folder.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireZooLock } from '../../src/train/zoo-lock.js';
import { exited, lineage, missingDist, startLineage, tempDir } from './zoo-cli.js';

const onLinux = process.platform === 'linux';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

function lockOf(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, '.lock'), 'utf8')) as Record<string, unknown>;
}

describe('acquireZooLock', () => {
  it('writes its owner in one step, refuses a second taker naming the lock and the pid, and removes only its own lock', async () => {
    const dir = tempDir();
    const release = await acquireZooLock(dir);
    const owner = lockOf(dir);
    expect(owner).toMatchObject({ pid: process.pid, hostname: hostname() });
    if (onLinux) expect(owner.startTime).toMatch(/^\d+$/);
    expect(readdirSync(dir)).toEqual(['.lock']); // no temp file left behind

    await expect(acquireZooLock(dir)).rejects.toThrow(`${join(dir, '.lock')}: another zoo build (pid ${process.pid}) is writing this folder`);
    await release();
    expect(readdirSync(dir)).toEqual([]);

    // a lock another build took after ours was (wrongly) judged stale stays when we release
    const releaseAgain = await acquireZooLock(dir);
    const theirs = JSON.stringify({ pid: process.ppid, hostname: hostname(), startTime: null, nonce: 'theirs' });
    writeFileSync(join(dir, '.lock'), theirs);
    await releaseAgain();
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(theirs);
  });

  it('of several builds starting at once, exactly one takes a free lock, and exactly one a stale one', async () => {
    for (const stale of [false, true]) {
      const dir = tempDir();
      if (stale) writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: deadPid(), hostname: hostname(), startTime: null, nonce: 'old' }));
      // staggered starts, so some read the stale lock before it is removed and act after it is replaced
      const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => new Promise((r) => setTimeout(r, i % 4)).then(() => acquireZooLock(dir))));
      const taken = results.filter((r) => r.status === 'fulfilled');
      expect(taken, `stale: ${stale}`).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/another zoo build \(pid \d+\) is writing this folder/);
      expect(lockOf(dir).pid).toBe(process.pid);
      expect(readdirSync(dir)).toEqual(['.lock']);
    }
  });

  it('takes over a lock whose pid is not running', async () => {
    const dir = tempDir();
    const dead = deadPid();
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: dead, hostname: hostname(), startTime: '12345', nonce: 'old' }));
    const notices: string[] = [];
    const release = await acquireZooLock(dir, (m) => notices.push(m));
    expect(notices).toEqual([`${join(dir, '.lock')}: taking over the lock of an earlier build (pid ${dead} is not running)`]);
    expect(lockOf(dir).pid).toBe(process.pid);
    await release();
  });

  it('does not remove the lock that replaced a stale one between its judging and its removal', async () => {
    const dir = tempDir();
    const lock = join(dir, '.lock');
    writeFileSync(lock, JSON.stringify({ pid: deadPid(), hostname: hostname(), startTime: null, nonce: 'old' }));
    const live = JSON.stringify({ pid: process.ppid, hostname: hostname(), startTime: null, nonce: 'fresh' });
    // told that the lock is stale, just before removing it: another build takes over right then
    const takeOverFirst = () => {
      rmSync(lock);
      writeFileSync(lock, live);
    };
    await expect(acquireZooLock(dir, takeOverFirst)).rejects.toThrow(`another zoo build (pid ${process.ppid}) is writing this folder`);
    expect(readFileSync(lock, 'utf8')).toBe(live);
    expect(readdirSync(dir)).toEqual(['.lock']);
  });

  it.runIf(onLinux)('takes over a lock whose pid is alive but belongs to a process started at another time (a reused pid)', async () => {
    const dir = tempDir();
    // this process is alive, and did not start 1 clock tick after boot
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: process.pid, hostname: hostname(), startTime: '1', nonce: 'old' }));
    const notices: string[] = [];
    const release = await acquireZooLock(dir, (m) => notices.push(m));
    expect(notices.join('\n')).toMatch(new RegExp(`pid ${process.pid} now belongs to a process started later \\(start time \\d+, not 1\\)`));
    expect(lockOf(dir).nonce).not.toBe('old');
    await release();
  });

  it('never takes over a lock it cannot judge stale: empty, unreadable, another host, or a live bare pid', async () => {
    const cases: [content: string, expected: RegExp][] = [
      ['', /\.lock: holds nothing, so its build cannot be checked; remove it if no zoo build is writing this folder/],
      ['{"owner": "me"}', /\.lock: holds no owner/],
      ['0', /\.lock: holds no owner/],
      [
        JSON.stringify({ pid: deadPid(), hostname: `not-${hostname()}`, startTime: '5', nonce: 'x' }),
        /another zoo build \(pid \d+ on host not-.*\) is writing this folder/,
      ],
      [String(process.ppid), new RegExp(`another zoo build \\(pid ${process.ppid}\\) is writing this folder`)],
    ];
    for (const [content, expected] of cases) {
      const dir = tempDir();
      writeFileSync(join(dir, '.lock'), content);
      await expect(acquireZooLock(dir), content).rejects.toThrow(expected);
      expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(content);
      expect(readdirSync(dir)).toEqual(['.lock']);
    }
  });

  it('removes the guard a build left when it died while taking over a stale lock', async () => {
    const dir = tempDir();
    const stale = JSON.stringify({ pid: deadPid(), hostname: hostname(), startTime: null, nonce: 'old' });
    writeFileSync(join(dir, '.lock'), stale);
    // the guard is named after the stale lock's content; its owner died too
    const guard = `.lock.stale-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}.tmp`;
    writeFileSync(join(dir, guard), JSON.stringify({ pid: deadPid(), hostname: hostname(), startTime: null, nonce: 'breaker' }));
    const release = await acquireZooLock(dir);
    expect(readdirSync(dir)).toEqual(['.lock']);
    await release();
  });
});

describe('zoo build lock (CLI)', () => {
  it('a second build on a folder fails naming the lock and the first build; once that one is killed its lock is taken over', async () => {
    expect(missingDist(), 'run `npm run build` first: this test runs the compiled CLI').toEqual([]);
    const dir = tempDir();
    const out = join(dir, 'zoo');
    const spec = (steps: number) => ({ roots: [{ name: 'mlp', arch: 'mlp', hyper: { hidden: [8] }, task: 'mnist', train: { steps, batch: 16 } }] });
    writeFileSync(join(dir, 'long.json'), JSON.stringify(spec(1_000_000)));
    writeFileSync(join(dir, 'short.json'), JSON.stringify(spec(5)));

    const first = startLineage(['zoo', 'build', join(dir, 'long.json'), '--out', out, '--workers', '0', '--no-progress']);
    const firstExit = exited(first);
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(out, '.lock')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(lockOf(out).pid).toBe(first.pid);

    const second = await lineage('zoo', 'build', join(dir, 'short.json'), '--out', out, '--workers', '0', '--no-progress');
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toBe(
      `lineage: ${join(out, '.lock')}: another zoo build (pid ${first.pid}) is writing this folder; wait for it or stop it (remove this file only if no such build runs)\n`,
    );
    expect(lockOf(out).pid).toBe(first.pid);

    first.kill('SIGKILL');
    expect((await firstExit).signal).toBe('SIGKILL');
    const third = await lineage('zoo', 'build', join(dir, 'short.json'), '--out', out, '--workers', '0', '--no-progress', '--json');
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain(`lineage: ${join(out, '.lock')}: taking over the lock of an earlier build (pid ${first.pid} is not running)`);
    expect(JSON.parse(third.stdout)).toMatchObject({ models: 1, built: 1 });
    expect(existsSync(join(out, '.lock'))).toBe(false);
  });
});
