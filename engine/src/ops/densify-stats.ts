// Adaptive density control's running statistics (native/src/ops/densify_stats.h), accumulated on the device.
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

/** Where radii > 0: accum += gradNorm, count += 1, maxRadii = max(maxRadii, radii). All [n]. */
export function densifyStats(
  gradNorm: Tensor<'f32'>,
  radii: Tensor<'f32'>,
  stats: { accum: Tensor<'f32'>; count: Tensor<'f32'>; maxRadii: Tensor<'f32'> },
): void {
  addon.densifyStats(
    gradNorm.device === 'cuda' ? 1 : 0,
    gradNorm.native,
    radii.native,
    stats.accum.native,
    stats.count.native,
    stats.maxRadii.native,
  );
}
