/**
 * The zoo worker process (child_process.fork of dist/train/worker.js): trains one model at a time
 * on request from the builder and reports progress and results over IPC. It exits when the
 * builder goes away (the IPC channel closes), so a killed build leaves no orphan training.
 */
import { DataCache, runJob, writeProbe, type JobRequest, type JobResult } from './zoo-job.js';

export type WorkerRequest =
  | { type: 'run'; request: JobRequest }
  | { type: 'probe'; outDir: string; task: string; file: string; rows: number; dataDir?: string };

export type WorkerReply =
  | { type: 'step'; id: string; step: number; steps: number }
  | { type: 'done'; result: JobResult }
  | { type: 'probed'; probe: { task: string; file: string; rows: number } }
  | { type: 'error'; message: string };

const caches = new Map<string, DataCache>();
function cacheFor(dataDir: string | undefined): DataCache {
  const key = dataDir ?? '';
  let cache = caches.get(key);
  if (!cache) {
    cache = new DataCache(dataDir);
    caches.set(key, cache);
  }
  return cache;
}

function send(reply: WorkerReply): void {
  if (process.connected) process.send?.(reply);
}

async function handle(message: WorkerRequest): Promise<void> {
  try {
    if (message.type === 'run') {
      const { request } = message;
      let last = 0;
      const result = await runJob(request, cacheFor(request.dataDir), (step, steps) => {
        const now = Date.now();
        if (now - last > 250 || step === steps) {
          last = now;
          send({ type: 'step', id: request.job.id, step, steps });
        }
      });
      send({ type: 'done', result });
    } else {
      const probe = await writeProbe(message.outDir, message.task, message.file, message.rows, cacheFor(message.dataDir));
      send({ type: 'probed', probe });
    }
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}

if (process.send) {
  process.on('message', (message: WorkerRequest) => void handle(message));
  process.on('disconnect', () => process.exit(0));
}
