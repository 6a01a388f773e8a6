/**
 * The layer rule: a module may import only from its own layer or the layers below it. Type-only
 * imports count too (tsPreCompilationDeps). Layers, lowest first; README "Architecture" says what
 * each owns.
 */
const LAYERS = ['base', 'tensor', 'formats', 'source', 'graph', 'archs', 'runtime', 'nn', 'data', 'zoo', 'lineage', 'train', 'eval', 'report', 'testing', 'cli'];
const path = (layer) => (layer === 'tensor' ? '^src/tensor\\.ts$' : `^src/${layer}/`);

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'import cycles make layers meaningless', from: { path: '^src/' }, to: { circular: true } },
    ...LAYERS.slice(0, -1).map((layer, i) => ({
      name: `layer-${layer}`,
      severity: 'error',
      comment: `${layer} may not import from a higher layer (${LAYERS.slice(i + 1).join(', ')})`,
      from: { path: path(layer) },
      to: { path: LAYERS.slice(i + 1).map(path).join('|') },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
