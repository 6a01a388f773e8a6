/** The --bn-stats flag shared by detect, bench, tree and ancestors (its parser refuses other values while the command line is read). */
import { type BnStats, parseBnStats } from '../../lineage/learning-free.js';
import { UsageError } from '../errors.js';

export const BN_STATS_HELP =
  "BatchNorm running statistics for the candidate's passes: child (the default: fine-tuning replaces them and they are outside the weight delta), parent (its own, as in the paper), or delta (its own, with their change to the child's in the fine-tuning tangent)";

export function bnStatsFlag(value: string): BnStats {
  try {
    return parseBnStats(value);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
