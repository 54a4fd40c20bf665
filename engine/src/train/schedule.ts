// Learning-rate schedules: functions of the 1-based step.
export type Schedule = (step: number) => number;

export const constant =
  (lr: number): Schedule =>
  () =>
    lr;

/**
 * Log-linear decay from `initial` to `final` over `steps` (3DGS's position schedule), with an optional warm-up
 * that ramps up from `initial * warmupFactor` over `warmupSteps`.
 */
export function exponentialDecay(
  initial: number,
  final: number,
  steps: number,
  warmupSteps = 0,
  warmupFactor = 1,
): Schedule {
  if (!(initial > 0 && final > 0 && steps > 0))
    throw new RangeError('exponentialDecay: initial, final and steps must be > 0');
  return (step) => {
    const t = Math.min(1, Math.max(0, step / steps));
    const decayed = Math.exp(Math.log(initial) * (1 - t) + Math.log(final) * t);
    if (warmupSteps <= 0 || step >= warmupSteps) return decayed;
    const ramp = warmupFactor + (1 - warmupFactor) * Math.sin((0.5 * Math.PI * step) / warmupSteps);
    return decayed * ramp;
  };
}
