import type { DType, Weights } from '../tensor.js';
import type { GgmlTypeName } from './gguf/types.js';
import type { WidenedDtype } from './safetensors/dtypes.js';

export type WeightFormat = 'safetensors' | 'safetensors-sharded' | 'pytorch' | 'onnx' | 'npy' | 'gguf';

/** What a file says about one tensor, known without reading its data. */
export interface TensorInfo {
  name: string;
  /**
   * For GGUF tensors, the ggml type as stored (e.g. "Q4_K"); for safetensors dtypes without a DType
   * the stored name (e.g. "float8_e4m3fn"); otherwise the tensor's dtype.
   */
  dtype: DType | GgmlTypeName | WidenedDtype;
  shape: number[];
  bytes: number;
}

/** A weight file read whole: its tensors in file order plus its string metadata. */
export interface WeightFile {
  file: string;
  format: WeightFormat;
  metadata: Record<string, string>;
  weights: Weights;
}
