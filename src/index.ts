export * from './tensor.js';
export * from './formats/index.js';
export { parseNpy, serializeNpy, readNpy, writeNpy } from './formats/npy.js';
export { writeFileAtomic } from './fsutil.js';
