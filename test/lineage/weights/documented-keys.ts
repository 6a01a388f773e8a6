/** The keys of `lineage compare --json`, as issues 15 and 16 document them (written here, not taken from the code); `relation` comes with issue 16, `p_value` with issue 17. */
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
  'relation',
  'relation_reason',
  'p_value',
  'seconds',
];
