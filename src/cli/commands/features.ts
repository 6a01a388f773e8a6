import type { Command } from 'commander';
import { computeFeatures } from '../../lineage/features.js';
import { writeNpy } from '../../formats/npy.js';
import { readProbe } from '../../lineage/probe.js';
import { printJson } from '../output.js';
import { positiveInt } from '../options.js';

interface FeaturesCliOptions {
  probe: string;
  probeRows?: number;
  layer?: string;
  arch?: string;
  heads?: number;
  out?: string;
  json?: boolean;
}

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description("compute a model's features at a layer on a probe batch; write them as an N x D float32 .npy")
    .argument('<model>', 'model file (.safetensors, .pt/.bin, .onnx)')
    .requiredOption('--probe <X.npy>', 'probe inputs, N x C x H x W float32, already normalised')
    .option('--probe-rows <n>', 'use only the first n rows (a positive integer; default: all)', positiveInt('--probe-rows'))
    .option(
      '--layer <name>',
      'named layer (penultimate, layer3, blocks.1, fc2, ...) or ONNX value name; default: penultimate (built-in) or the first graph output (ONNX)',
    )
    .option('--arch <name>', 'built-in architecture; inferred when absent')
    .option('--heads <n>', 'ViT attention heads when the file does not say', positiveInt('--heads'))
    .option('--out <F.npy>', 'write the features here')
    .option('--json', 'print a JSON summary (and the features when --out is not given)')
    .action(async (model: string, options: FeaturesCliOptions) => {
      const probe = await readProbe(options.probe, options.probeRows ?? Number.MAX_SAFE_INTEGER);
      const result = await computeFeatures(model, probe, options.layer, { arch: options.arch, heads: options.heads });
      const [n, d] = result.features.shape;
      if (options.out) await writeNpy(options.out, result.features);
      if (options.json) {
        printJson({
          model,
          layer: result.layer,
          value: result.value,
          shape: [n, d],
          out: options.out ?? null,
          ...(options.out ? {} : { features: Array.from(result.features.data) }),
        });
      } else {
        process.stdout.write(`${model}: layer ${result.layer} (${result.value}) -> ${n} x ${d} features${options.out ? `, written to ${options.out}` : ''}\n`);
      }
    });
}
