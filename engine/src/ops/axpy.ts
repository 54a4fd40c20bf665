// y += alpha * x on flat f32 tensors of the same size (native/src/ops/axpy.h).
import { addon } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

export function axpy(alpha: number, x: Tensor<'f32'>, y: Tensor<'f32'>): void {
  addon.axpy(x.device === 'cuda' ? 1 : 0, alpha, x.native, y.native);
}
