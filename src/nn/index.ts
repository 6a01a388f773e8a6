/**
 * The one way to define and train a network, below both the zoo trainer (src/train, graph IR on
 * the tfjs interpreter) and the learned detector (src/lineage/detector, tfjs-core ops):
 *   declare tensors   ParamSpec, pytorchDefaultSpecs       -> initialWeights (seeded per tensor)
 *   hold them         ParameterSet (variables + buffers on the backend)
 *   train             trainStep(params, optimizer, lr, loss), createOptimizer, learningRate (StepLR),
 *                     the losses, updateRunningStatistics (BatchNorm)
 */
export { type ValueInit, initialValues } from './init-values.js';
export { type ParamInit, type ParamSpec, initialWeights, pytorchDefaultSpecs } from './params.js';
export { ParameterSet } from './parameter-set.js';
export { type Optimizer, type OptimizerConfig, type OptimizerName, type StepLr, checkOptimizerConfig, createOptimizer, learningRate } from './optimizers.js';
export { type DetectionLossParts, type DetectionTargets, crossEntropy, detectionLoss, pixelCrossEntropy, splitDetection } from './losses.js';
export { BN_MOMENTUM, type BatchStatisticsUpdate, updateRunningStatistics } from './batchnorm.js';
export { type LossFn, type LossPart, trainStep } from './step.js';
