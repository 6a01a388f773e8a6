/** The keys of `lineage compare --json`, as the issue documents them (written here, not taken from the code). */
export const COMPARE_JSON_KEYS = [
  'version',
  'a',
  'b',
  'matched_tensors',
  'matched_parameters',
  'total_parameters',
  'low_coverage',
  'unmatched',
  'excluded',
  'tensors',
  'distance',
  'seconds',
];
