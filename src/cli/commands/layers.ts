import type { Command } from 'commander';
import { layerOrigins, stitchWeights } from '../../lineage/layers.js';
import { resolveModel } from '../../lineage/model.js';
import { writeSafetensors } from '../../formats/safetensors.js';
import { UsageError } from '../errors.js';
import { formatTable, printJson, warnExcluded } from '../output.js';
import { collect } from '../options.js';

export function registerLayers(program: Command): void {
  program
    .command('layers')
    .description('layer-level lineage: the most likely origin of each block of a (stitched, fine-tuned) model among candidates')
    .argument('<model>', 'the model whose blocks are traced')
    .requiredOption('--candidates <files...>', 'candidate origin models')
    .option('--json', 'print JSON: {model, layers: [{layer, origins: [{model, probability, distance}]}], excluded: [{model, file, reason}]}')
    .action(async (file: string, options: { candidates: string[]; json?: boolean }) => {
      const trace = await layerOrigins(file, options.candidates);
      warnExcluded(trace.excluded);
      const origins = trace.layers;
      if (options.json) {
        printJson({ model: file, layers: origins, excluded: trace.excluded });
        return;
      }
      const rows = origins.map((o) => [
        o.layer,
        o.origins[0]?.model ?? '(no compatible candidate)',
        o.origins[0] ? `${(100 * o.origins[0].probability).toFixed(1)}%` : '',
        o.origins[1] ? `${o.origins[1].model} ${(100 * o.origins[1].probability).toFixed(1)}%` : '',
      ]);
      process.stdout.write(
        `${formatTable([{ header: 'block' }, { header: 'most likely origin' }, { header: 'probability', align: 'right' }, { header: 'runner-up' }], rows)}\n`,
      );
    });

  program
    .command('stitch')
    .description('build a model from blocks of several models (to test layer-level lineage)')
    .requiredOption('--base <file>', 'model giving every block not taken from a donor')
    .requiredOption('--take <file:blocks>', 'donor and comma-separated blocks, e.g. b.safetensors:layer1.0,layer2.1 (repeatable)', collect)
    .requiredOption('--out <file.safetensors>', 'where to write the stitched model')
    .option('--json', 'print the origin of each taken block as JSON')
    .action(async (options: { base: string; take: string[]; out: string; json?: boolean }) => {
      const base = await resolveModel(options.base);
      const donors = [];
      for (const spec of options.take) {
        const colon = spec.lastIndexOf(':');
        if (colon <= 0) throw new UsageError(`--take expects file:block[,block...], got '${spec}'`);
        const id = spec.slice(0, colon);
        const blocks = spec
          .slice(colon + 1)
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean);
        donors.push({ id, weights: (await resolveModel(id)).weights, blocks });
      }
      let stitched: ReturnType<typeof stitchWeights>;
      try {
        stitched = stitchWeights(base.weights, donors);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      await writeSafetensors(options.out, stitched.weights);
      if (options.json) printJson({ out: options.out, base: options.base, taken: stitched.origin });
      else
        process.stdout.write(
          `wrote ${options.out}: ${Object.entries(stitched.origin)
            .map(([b, m]) => `${b} from ${m}`)
            .join(', ')}; the rest from ${options.base}\n`,
        );
    });
}
