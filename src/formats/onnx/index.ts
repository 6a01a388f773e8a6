/** ONNX models: plain-object model types, protobuf reader/writer, and weights as a state dict. */
export * from './model.js';
export { parseOnnxModel } from './reader.js';
export { serializeOnnxModel } from './writer.js';
export { onnxWeights, onnxFileMetadata, looksLikeStateDictKey, readOnnxFile, readOnnxModel, writeOnnxModel } from './weights.js';
export { dtypeFromOnnx, onnxDataType } from './tensor-proto.js';
