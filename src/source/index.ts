/** Model sources: any supported model file or folder as a lazy, ordered view of its tensors. */
export { openModelSource } from './open.js';
export type { ModelSource, SourceTensor } from './types.js';
export { MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, SOURCE_FOLDER_CANDIDATES } from './folder.js';
