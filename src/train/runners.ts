/**
 * Where zoo jobs run: in this process (workers = 0; tests, debugging) or in forked worker
 * processes (dist/train/worker.js), one job at a time each.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest } from './worker.js';
import { DataCache, type JobRequest, type JobResult, runJob, writeProbe } from './zoo-job.js';

export type ProbeResult = { task: string; file: string; rows: number };

export interface JobRunner {
  run(request: JobRequest, onStep: (step: number, steps: number) => void): Promise<JobResult>;
  probe(outDir: string, task: string, file: string, rows: number, dataDir?: string): Promise<ProbeResult>;
  close(): void;
}

export class InProcessRunner implements JobRunner {
  private readonly caches = new Map<string, DataCache>();
  private cache(dataDir?: string): DataCache {
    let c = this.caches.get(dataDir ?? '');
    if (!c) {
      c = new DataCache(dataDir);
      this.caches.set(dataDir ?? '', c);
    }
    return c;
  }
  run(request: JobRequest, onStep: (step: number, steps: number) => void): Promise<JobResult> {
    return runJob(request, this.cache(request.dataDir), onStep);
  }
  probe(outDir: string, task: string, file: string, rows: number, dataDir?: string): Promise<ProbeResult> {
    return writeProbe(outDir, task, file, rows, this.cache(dataDir));
  }
  close(): void {}
}

/** The compiled worker module: next to this file when running from dist, else dist/ of the package. */
export function workerModulePath(): string {
  const candidates = [new URL('./worker.js', import.meta.url), new URL('../../dist/train/worker.js', import.meta.url)];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  throw new Error(`zoo worker not found (looked for ${candidates.map((u) => fileURLToPath(u)).join(', ')}): run \`npm run build\`, or build with --workers 0`);
}

export class ForkRunner implements JobRunner {
  private readonly child: ChildProcess;
  private pending: { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void; onStep?: (step: number, steps: number) => void } | undefined;
  private exited: Error | undefined;

  constructor(modulePath = workerModulePath()) {
    // the worker's stdout goes to our stderr (stdout carries only the command's result); no
    // inherited node flags (`node -e`/--input-type would break the worker)
    this.child = fork(modulePath, [], { stdio: ['ignore', 2, 2, 'ipc'], execArgv: [] });
    this.child.on('message', (reply: WorkerReply) => {
      if (reply.type === 'step') this.pending?.onStep?.(reply.step, reply.steps);
      else this.settle(reply);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`zoo worker ${this.child.pid} exited (${signal ?? `code ${code}`})`);
      this.pending?.reject(this.exited);
      this.pending = undefined;
    });
  }

  private settle(reply: WorkerReply): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(reply);
  }

  private request(message: WorkerRequest, onStep?: (step: number, steps: number) => void): Promise<WorkerReply> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.pending) return Promise.reject(new Error('zoo worker is busy'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, onStep };
      this.child.send(message);
    });
  }

  async run(request: JobRequest, onStep: (step: number, steps: number) => void): Promise<JobResult> {
    const reply = await this.request({ type: 'run', request }, onStep);
    if (reply.type === 'done') return reply.result;
    throw new Error(reply.type === 'error' ? reply.message : `unexpected worker reply ${reply.type}`);
  }

  async probe(outDir: string, task: string, file: string, rows: number, dataDir?: string): Promise<ProbeResult> {
    const reply = await this.request({ type: 'probe', outDir, task, file, rows, ...(dataDir ? { dataDir } : {}) });
    if (reply.type === 'probed') return reply.probe;
    throw new Error(reply.type === 'error' ? reply.message : `unexpected worker reply ${reply.type}`);
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null) this.child.kill();
  }
}
