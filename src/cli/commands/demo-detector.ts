/** The learned detector's row of the demo table: trained on the demo zoo, scored on held-out children. */
import { trainDetector } from '../../lineage/detector/train.js';
import type { DemoRow } from './demo-row.js';

export async function runDemoDetector(zoo: string, quiet: boolean): Promise<DemoRow> {
  const started = performance.now();
  const result = await trainDetector({
    zoos: [zoo],
    seed: 0,
    onEpoch: (record, epochs) => {
      if (!quiet && (record.epoch === epochs || record.epoch % 10 === 0))
        process.stderr.write(`detector: epoch ${record.epoch}/${epochs}, loss ${record.loss.toFixed(3)}\n`);
    },
  });
  const last = result.history[result.history.length - 1];
  const total = result.counts.test;
  const accuracy = last?.test ?? Number.NaN;
  return {
    method: 'detector',
    correct: Math.round(accuracy * total),
    total,
    accuracy,
    seconds: (performance.now() - started) / 1000,
    note: `learned; trained on ${result.counts.train} children, scored on ${total} held out`,
  };
}
