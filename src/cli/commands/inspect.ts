import type { Command } from 'commander';
import { shapeSize } from '../../tensor.js';
import { formatBytes, formatCount, formatTable, printJson } from '../output.js';
import { resolveModel, buildModelGraph } from '../../lineage/model.js';
import { positiveInt } from '../options.js';
import { isBufferName } from '../../base/naming.js';
import { openModelSource } from '../../source/open.js';
import type { ModelSource } from '../../source/types.js';

export interface InspectReport {
  file: string;
  format: string;
  metadata: Record<string, string>;
  tensors: { name: string; dtype: string; shape: number[]; bytes: number }[];
  elements: number;
  parameters: number;
}

/** The report of an open source: what its headers say, no tensor data read. */
export function inspectReport(source: ModelSource): InspectReport {
  let elements = 0;
  let parameters = 0;
  for (const t of source.tensors) {
    const n = shapeSize(t.shape);
    elements += n;
    if (!isBufferName(t.name)) parameters += n;
  }
  return {
    file: source.file,
    format: source.format,
    metadata: { ...source.metadata },
    tensors: source.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: t.bytes })),
    elements,
    parameters,
  };
}

async function inspectFile(file: string): Promise<InspectReport> {
  const source = await openModelSource(file);
  try {
    return inspectReport(source);
  } finally {
    await source.close();
  }
}

function printHuman(report: InspectReport): void {
  const rows = report.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`, formatCount(shapeSize(t.shape)), formatBytes(t.bytes)]);
  const out: string[] = [`${report.file} (${report.format})`];
  const meta = Object.entries(report.metadata);
  if (meta.length > 0) {
    out.push('metadata:');
    for (const [k, v] of meta) out.push(`  ${k}: ${v}`);
  }
  out.push('');
  out.push(
    formatTable(
      [{ header: 'name' }, { header: 'dtype' }, { header: 'shape' }, { header: 'elements', align: 'right' }, { header: 'size', align: 'right' }],
      rows,
    ),
  );
  out.push('');
  out.push(
    `${report.tensors.length} tensors, ${formatCount(report.elements)} elements, ${formatCount(report.parameters)} parameters (BatchNorm running statistics excluded)`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('list the tensors of a model file: name, dtype, shape, size; element and parameter counts; metadata')
    .argument(
      '<model-file>',
      '.safetensors, model.safetensors.index.json, pytorch_model.bin.index.json, .pt/.pth/.bin (PyTorch zip), .onnx, .gguf or .npy; or a folder holding one',
    )
    .option('--layers', 'list the named layers (feature taps) of the model instead of its tensors')
    .option('--arch <name>', 'with --layers: built-in architecture; inferred when absent')
    .option('--heads <n>', 'with --layers: ViT attention heads when the file does not say', positiveInt('--heads'))
    .option('--json', 'print machine-readable JSON instead of a table')
    .action(async (file: string, options: { json?: boolean; layers?: boolean; arch?: string; heads?: number }) => {
      if (options.layers) {
        const model = await resolveModel(file);
        const { graph } = await buildModelGraph(model, { arch: options.arch, heads: options.heads });
        const layers = [...graph.taps].map(([layer, value]) => ({ layer, value }));
        if (options.json) printJson({ file, layers });
        else
          process.stdout.write(
            `${formatTable(
              [{ header: 'layer' }, { header: 'graph value' }],
              layers.map((l) => [l.layer, l.value]),
            )}\n`,
          );
        return;
      }
      const report = await inspectFile(file);
      if (options.json) printJson(report);
      else printHuman(report);
    });
}
