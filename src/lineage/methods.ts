/**
 * Method names of `lineage detect`: `<mode>-<metric>` for feature methods (mode: direct, taylor,
 * linearized, fitted) and the weight-space methods `weights-l2`, `weights-cos`, `weights-rel`.
 */
import { METRIC_NAMES, type MetricName } from './similarity/types.js';

export const FEATURE_MODES = ['direct', 'taylor', 'linearized', 'fitted'] as const;
export type FeatureMode = (typeof FEATURE_MODES)[number];
export const WEIGHT_METHODS = ['weights-l2', 'weights-cos', 'weights-rel', 'weights-aligned-l2', 'weights-aligned-cos'] as const;
export type WeightMethod = (typeof WEIGHT_METHODS)[number];

export type Method = { kind: 'feature'; name: string; mode: FeatureMode; metric: MetricName } | { kind: 'weights'; name: WeightMethod };

export function allMethodNames(): string[] {
  const names: string[] = [];
  for (const mode of FEATURE_MODES) for (const metric of METRIC_NAMES) names.push(`${mode}-${metric}`);
  return [...names, ...WEIGHT_METHODS];
}

export function parseMethod(name: string): Method {
  if ((WEIGHT_METHODS as readonly string[]).includes(name)) return { kind: 'weights', name: name as WeightMethod };
  const dash = name.indexOf('-');
  const mode = name.slice(0, dash);
  const metric = name.slice(dash + 1);
  if (dash > 0 && (FEATURE_MODES as readonly string[]).includes(mode) && (METRIC_NAMES as readonly string[]).includes(metric)) {
    return { kind: 'feature', name, mode: mode as FeatureMode, metric: metric as MetricName };
  }
  throw new RangeError(
    `unknown method '${name}': use <mode>-<metric> with mode in ${FEATURE_MODES.join(' | ')} and metric in ${METRIC_NAMES.join(' | ')}, or ${WEIGHT_METHODS.join(', ')}, or 'auto', or 'all'`,
  );
}

/** Parses `all`, one name, or a comma list. */
export function parseMethodList(spec: string): Method[] {
  const names =
    spec === 'all'
      ? allMethodNames()
      : spec
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  if (names.length === 0) throw new RangeError('no method given');
  return names.map(parseMethod);
}

/** Methods whose score depends on a step alpha along the tangent (fitted searches its own). */
export function usesAlpha(name: string): boolean {
  return name.startsWith('taylor-') || name.startsWith('linearized-');
}
