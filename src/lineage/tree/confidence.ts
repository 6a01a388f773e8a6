/**
 * Calibrated edge confidence for weight methods (issue 18): the probability that an edge is right
 * (parent and direction), from the one piece of evidence that separated right from wrong edges on
 * our zoos, the branch position that decided it (twins.ts). A position far from the twin threshold
 * (near 0: the parent lies on the path to the grandparent; near 1/2: a twin moved off its twin)
 * is a clear decision; near the threshold a chain and a twin look alike. Edges with no grandparent
 * to test against get the largest margin.
 *
 *   confidence = 1 / (1 + exp(-(A + B * x))),  x = min(|position - threshold|, threshold) / threshold
 *
 * A and B were fitted by logistic regression on the edges of the six zoos our builder trains
 * (`npm run bench:tree-calibration`, bench/results/tree-calibration.md) and checked on families
 * trained elsewhere (PyTorch) that played no part in the fit: expected calibration error there is
 * in that file. Confidence is at most sigmoid(A + B) = 0.95: even a clear-cut edge was wrong about
 * one time in sixteen on the zoos fitted (mostly misoriented chains, which no branch position sees).
 */
export const CALIBRATION = { intercept: -1.712, slope: 4.633 } as const;

/** The calibrated confidence of an edge decided at `position` (undefined: nothing to test against). */
export function calibratedConfidence(position: number | undefined, threshold: number, calibration: { intercept: number; slope: number } = CALIBRATION): number {
  const margin = position === undefined || !Number.isFinite(position) ? threshold : Math.min(Math.abs(position - threshold), threshold);
  const x = margin / threshold;
  return 1 / (1 + Math.exp(-(calibration.intercept + calibration.slope * x)));
}
