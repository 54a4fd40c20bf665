// The personalised half of a pre-training step (InsTaG eqs. 4-7): the video's own Personalized Field adds its
// residual motion to the universal one (eq. 5: both deform the same Gaussians, so they share one gradient), and a
// negative — another video's field queried at the same Gaussians and condition — gives the Negative Contrast Loss.
// One negative per step, drawn by the trainer, stands in for eq. 13's sum over all other videos (an unbiased
// estimate once scaled by their number, at a fraction of the cost).
import { axpy } from '../ops/axpy.js';
import { contrastLoss } from '../ops/contrast-loss.js';
import type { Workspace } from '../render/workspace.js';
import type { Tensor } from '../tensor.js';
import type { Branch } from './model-params.js';
import type { PersonalField } from './personal-field.js';

export interface PersonalInputs {
  own: PersonalField;
  /** Another video's field for the contrast loss, or null (a single video, or no contrast). */
  negative: PersonalField | null;
  /** lambda_C times the number of other videos (see above). */
  contrastWeight: number;
}

/** What one branch's forward kept. */
interface Kept {
  own: { h: Tensor<'f32'>; delta: Tensor<'f32'> };
  negative: { h: Tensor<'f32'>; delta: Tensor<'f32'> } | null;
  /** Universal plus own motion (the graph's tensor, valid until the next forward). */
  sum: Tensor<'f32'>;
}

/**
 * How much of a branch's motion is personal, over the position offsets (the first three decoder outputs, raw): the
 * root-mean-square of the own field's and of the sum's, and the mean own-negative dot product the contrast loss
 * truncates (negative once the fields are pushed apart, which is when the loss reads zero).
 */
export interface PersonalMotion {
  ownRms: number;
  sumRms: number;
  negativeDot: number | null;
}

export class PersonalPass {
  private readonly kept: Partial<Record<Branch, Kept>> = {};

  constructor(
    private readonly ws: Workspace,
    readonly inputs: PersonalInputs,
  ) {}

  /**
   * After the universal field wrote `delta` ([n, outputDim]) at `query`: adds the own field's motion into it and,
   * with a negative, evaluates that field too. `condition` is the expression (face) or the hook (mouth).
   */
  forward(branch: Branch, query: Tensor<'f32'>, audio: Tensor<'f32'>, condition: Tensor<'f32'>, delta: Tensor<'f32'>) {
    const [n, width] = delta.shape as [number, number];
    const run = (field: PersonalField, role: 'own' | 'negative') => {
      const ops = field.ops[branch];
      const h = this.ws.get(`personal.${role}.${branch}.h`, 'f32', [n, ops.grid.outputDim]);
      ops.grid.forward([n], query, [field.value(`${branch}.motionGrid`)], h);
      const out = this.ws.get(`personal.${role}.${branch}.delta`, 'f32', [n, width]);
      if (branch === 'face') field.ops.face.motion.forward([n], h, audio, condition, field.faceWeights('value'), out);
      else field.ops.mouth.motion.forward([n], h, audio, condition, field.mouthWeights('value'), out);
      return { h, delta: out };
    };
    const own = run(this.inputs.own, 'own');
    axpy(1, own.delta, delta);
    this.kept[branch] = {
      own,
      negative: this.inputs.negative ? run(this.inputs.negative, 'negative') : null,
      sum: delta,
    };
  }

  /** The last forward's PersonalMotion of `branch` (reads from the device: for reports, not every step). */
  motion(branch: Branch): PersonalMotion | null {
    const kept = this.kept[branch];
    if (!kept) return null;
    const [n, width] = kept.sum.shape as [number, number];
    const own = kept.own.delta.read();
    const sum = kept.sum.read();
    const negative = kept.negative?.delta.read() ?? null;
    let ownSquares = 0;
    let sumSquares = 0;
    let dot = 0;
    for (let r = 0; r < n; r++)
      for (let c = 0; c < 3; c++) {
        const i = r * width + c;
        const o = own[i] as number;
        ownSquares += o * o;
        sumSquares += (sum[i] as number) ** 2;
        if (negative) dot += o * (negative[i] as number);
      }
    const values = Math.max(1, 3 * n);
    return {
      ownRms: Math.sqrt(ownSquares / values),
      sumRms: Math.sqrt(sumSquares / values),
      negativeDot: negative ? dot / Math.max(1, n) : null,
    };
  }

  /**
   * From dL/d delta of the sum (gradDelta): the contrast loss's gradient is added to it for the own field, both
   * fields' weight gradients are added, and the own field's query gradient is added into gradQuery. Returns the
   * audio-code gradients (one per field), the own field's hook gradient when asked, and the contrast loss [1].
   */
  backward(
    branch: Branch,
    query: Tensor<'f32'>,
    audio: Tensor<'f32'>,
    condition: Tensor<'f32'>,
    gradDelta: Tensor<'f32'>,
    gradQuery: Tensor<'f32'>,
    want: { audio: boolean; hook: boolean },
  ): { audio: Tensor<'f32'>[]; hook: Tensor<'f32'> | null; contrast: Tensor<'f32'> | null } {
    const kept = this.kept[branch];
    if (!kept) throw new Error(`PersonalPass.backward(${branch}) without its forward`);
    const ws = this.ws;
    const [n, width] = gradDelta.shape as [number, number];
    const gradOwn = ws.get(`grad.personal.own.${branch}.delta`, 'f32', [n, width]);
    gradOwn.copyFrom(gradDelta);
    let contrast: Tensor<'f32'> | null = null;
    let gradNegative: Tensor<'f32'> | null = null;
    if (kept.negative) {
      gradNegative = ws.get(`grad.personal.negative.${branch}.delta`, 'f32', [n, width]);
      gradNegative.native.fillZero();
      contrast = ws.get(`personal.${branch}.contrast`, 'f32', [1]);
      contrastLoss(kept.own.delta, kept.negative.delta, this.inputs.contrastWeight, contrast, gradOwn, gradNegative);
    }
    const audioGrads: Tensor<'f32'>[] = [];
    let hook: Tensor<'f32'> | null = null;
    const back = (field: PersonalField, role: 'own' | 'negative', h: Tensor<'f32'>, grad: Tensor<'f32'>) => {
      const ops = field.ops[branch];
      const g = (name: string, shape: number[]) => ws.get(`grad.personal.${role}.${branch}.${name}`, 'f32', shape);
      const gradH = g('h', [n, ops.grid.outputDim]);
      const gradAudio = want.audio ? g('audio', [...audio.shape]) : null;
      if (branch === 'face')
        field.ops.face.motion.backward(
          [n],
          h,
          audio,
          condition,
          field.faceWeights('value'),
          grad,
          field.faceWeights('grad'),
          {
            h: gradH,
            audio: gradAudio,
            expression: g('expression', [...condition.shape]),
          },
        );
      else {
        const gradHook = role === 'own' && want.hook ? g('hook', [...condition.shape]) : null;
        field.ops.mouth.motion.backward(
          [n],
          h,
          audio,
          condition,
          field.mouthWeights('value'),
          grad,
          field.mouthWeights('grad'),
          {
            h: gradH,
            audio: gradAudio,
            hook: gradHook,
          },
        );
        if (gradHook) hook = gradHook;
      }
      if (gradAudio) audioGrads.push(gradAudio);
      // Only the own field moves the video's Gaussians: the negative's query gradient is not wanted.
      const gradQueryOwn = role === 'own' ? g('query', [n, 3]) : null;
      ops.grid.backward(
        [n],
        query,
        [field.value(`${branch}.motionGrid`)],
        gradH,
        [field.grad(`${branch}.motionGrid`)],
        gradQueryOwn,
      );
      if (gradQueryOwn) axpy(1, gradQueryOwn, gradQuery);
    };
    back(this.inputs.own, 'own', kept.own.h, gradOwn);
    if (kept.negative && this.inputs.negative && gradNegative)
      back(this.inputs.negative, 'negative', kept.negative.h, gradNegative);
    return { audio: audioGrads, hook, contrast };
  }
}
