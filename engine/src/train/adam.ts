// Adam / AdamW over parameter groups (paper: grids 5e-3, networks 5e-4; Gaussian attributes as 3DGS), with
// per-group learning-rate schedules and optional global gradient-norm clipping. Each group is one flat tensor of
// parameters with its gradient tensor of the same size; the moments live on the same device.
import { addon } from '../native/addon.js';
import { Tensor } from '../tensor.js';
import type { Schedule } from './schedule.js';

export interface ParamGroup {
  name: string;
  params: Tensor<'f32'>;
  grads: Tensor<'f32'>;
  /** Learning rate per step (1-based step count). */
  lr: Schedule;
  weightDecay?: number;
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  /** 3DGS uses 1e-15: its positions' gradients are tiny. */
  eps?: number;
  /** Clip the global gradient norm (all groups together) to this; none when absent. */
  maxGradNorm?: number;
}

interface GroupState {
  group: ParamGroup;
  m: Tensor<'f32'>;
  v: Tensor<'f32'>;
}

export class Adam {
  private readonly states = new Map<string, GroupState>();
  private steps = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  constructor(
    groups: readonly ParamGroup[],
    private readonly options: AdamOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-15;
    for (const group of groups) this.add(group);
  }

  /** The groups' names, in the order they were added. */
  get groupNames(): string[] {
    return [...this.states.keys()];
  }

  /** Updates so far. */
  get step(): number {
    return this.steps;
  }

  add(group: ParamGroup): void {
    if (this.states.has(group.name)) throw new Error(`Adam: a group named "${group.name}" exists already`);
    if (group.params.size !== group.grads.size || group.params.device !== group.grads.device)
      throw new RangeError(`Adam: group "${group.name}": params and grads must match in size and device`);
    const zeros = () => Tensor.zeros(group.params.device, 'f32', [group.params.size]);
    this.states.set(group.name, { group, m: zeros(), v: zeros() });
  }

  /**
   * Replaces a group's tensors (densification grows and prunes Gaussians). `carry` maps each new row to the old
   * row whose moments it keeps, or -1 for fresh zero moments; rows are `width` floats wide.
   */
  replace(name: string, params: Tensor<'f32'>, grads: Tensor<'f32'>, carry: Int32Array, width: number): void {
    const state = this.state(name);
    if (carry.length * width !== params.size)
      throw new RangeError(
        `Adam.replace("${name}"): carry has ${carry.length} rows of ${width}, params ${params.size} values`,
      );
    const remap = (old: Tensor<'f32'>) => {
      const before = old.read();
      const after = new Float32Array(params.size);
      carry.forEach((from, row) => {
        if (from >= 0) after.set(before.subarray(from * width, (from + 1) * width), row * width);
      });
      old.dispose();
      return Tensor.from(params.device, 'f32', [params.size], after);
    };
    state.m = remap(state.m);
    state.v = remap(state.v);
    state.group = { ...state.group, params, grads };
  }

  /** Zeroes every group's gradients (ops accumulate into them). */
  zeroGrad(): void {
    for (const { group } of this.states.values()) group.grads.native.fillZero();
  }

  /** Global L2 norm of all gradients. */
  gradNorm(): number {
    let sum = 0;
    for (const { group } of this.states.values()) sum += addon.squaredNorm(deviceOf(group.grads), group.grads.native);
    return Math.sqrt(sum);
  }

  /** One update of every group; returns the gradient norm when clipping is on. */
  update(): { gradNorm?: number } {
    this.steps += 1;
    let gradScale = 1;
    let gradNorm: number | undefined;
    if (this.options.maxGradNorm !== undefined) {
      gradNorm = this.gradNorm();
      if (!Number.isFinite(gradNorm))
        throw new Error(`Adam: gradient norm is ${gradNorm} at step ${this.steps}: the loss diverged`);
      if (gradNorm > this.options.maxGradNorm) gradScale = this.options.maxGradNorm / gradNorm;
    }
    for (const { group, m, v } of this.states.values())
      addon.adamStep(deviceOf(group.params), group.params.native, group.grads.native, m.native, v.native, {
        lr: group.lr(this.steps),
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: group.weightDecay ?? 0,
        gradScale,
        step: this.steps,
      });
    return gradNorm === undefined ? {} : { gradNorm };
  }

  /** Moments for checkpoints. */
  moments(name: string): { m: Tensor<'f32'>; v: Tensor<'f32'> } {
    const { m, v } = this.state(name);
    return { m, v };
  }

  /** Restores the step count after loading moments from a checkpoint. */
  restore(step: number, moments: Record<string, { m: Float32Array; v: Float32Array }>): void {
    for (const [name, { m, v }] of Object.entries(moments)) {
      const state = this.state(name);
      state.m.write(m);
      state.v.write(v);
    }
    this.steps = step;
  }

  dispose(): void {
    for (const { m, v } of this.states.values()) {
      m.dispose();
      v.dispose();
    }
    this.states.clear();
  }

  private state(name: string): GroupState {
    const state = this.states.get(name);
    if (!state) throw new Error(`Adam: no group named "${name}"`);
    return state;
  }
}

const deviceOf = (t: Tensor) => (t.device === 'cuda' ? 1 : 0);
