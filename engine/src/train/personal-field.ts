// A Personalized Field's motion half (InsTaG section 3.2, eq. 4): one per pre-training video, it learns the residual
// motion of its own person on top of the shared Universal Motion Field, so that what is personal does not pollute
// the prior. Same design as the universal fields (tri-plane hash grid, attention-conditioned decoder) with narrower
// decoders (paper: hidden 32 for the face, 16 for the mouth). It reads the shared audio code: the official code gives
// every field its own audio encoder, but one encoder keeps the prior's audio features identity-free too.
import type { ModelConfig } from '../model/config.js';
import { mlpWeights, type Random } from '../model/init.js';
import {
  FaceMotionField,
  type FaceMotionShapes,
  MouthMotionField,
  type MouthMotionShapes,
} from '../ops/motion-field.js';
import { TriplaneHashgrid } from '../ops/triplane-hashgrid.js';
import { type DeviceKind, Tensor } from '../tensor.js';
import { tableWeights } from './initial-weights.js';
import type { Branch } from './model-params.js';
import { PRIOR_TENSORS, type PriorTensorName } from './motion-prior.js';

/** The universal fields' tensors without the audio encoders (a personal field reads the shared audio code). */
export type PersonalTensorName = Exclude<PriorTensorName, `audio.${string}`>;
export const PERSONAL_TENSORS = PRIOR_TENSORS.filter((name): name is PersonalTensorName => !name.startsWith('audio.'));
export type PersonalWeights = Record<PersonalTensorName, Float32Array>;

/** Decoder widths of the personalised fields (paper section 3.2 / official code). */
const HIDDEN: Record<Branch, number> = { face: 32, mouth: 16 };

/** The networks of both branches' personalised motion fields, and their ops. */
export class PersonalFieldOps {
  readonly face: { grid: TriplaneHashgrid; motion: FaceMotionField };
  readonly mouth: { grid: TriplaneHashgrid; motion: MouthMotionField };
  readonly shapes: { face: FaceMotionShapes; mouth: MouthMotionShapes };

  constructor(readonly model: ModelConfig) {
    const narrow = <T extends { hidden: number[] }>(mlp: T, width: number): T => ({
      ...mlp,
      hidden: mlp.hidden.map(() => width),
    });
    const { face, mouth } = model;
    this.shapes = {
      face: {
        audioAttention: face.audioAttention,
        expressionAttention: face.expressionAttention,
        expressionEncoder: face.expressionEncoder,
        decoder: narrow(face.decoder, HIDDEN.face),
      },
      mouth: {
        audioAttention: mouth.audioAttention,
        decoder: narrow(mouth.decoder, HIDDEN.mouth),
        hookScaler: mouth.hookScaler,
      },
    };
    this.face = { grid: new TriplaneHashgrid(face.motionGrid), motion: new FaceMotionField(this.shapes.face) };
    this.mouth = { grid: new TriplaneHashgrid(mouth.motionGrid), motion: new MouthMotionField(this.shapes.mouth) };
  }

  /** Value count of every tensor. */
  sizes(): Record<PersonalTensorName, number> {
    const { face, mouth } = this;
    return {
      'face.motionGrid': face.grid.paramCount,
      'face.audioAttention': face.motion.paramCounts.audioAttention,
      'face.expressionAttention': face.motion.paramCounts.expressionAttention,
      'face.expressionEncoder': face.motion.paramCounts.expressionEncoder,
      'face.decoder': face.motion.paramCounts.decoder,
      'mouth.motionGrid': mouth.grid.paramCount,
      'mouth.audioAttention': mouth.motion.paramCounts.audioAttention,
      'mouth.decoder': mouth.motion.paramCounts.decoder,
      'mouth.hookScaler': mouth.motion.paramCounts.hookScaler,
    };
  }

  /** Starting weights: decoders and the hook scaler's last layer zero, so a new field adds no motion at first. */
  initialWeights(random: Random): PersonalWeights {
    const { face, mouth } = this.shapes;
    return {
      'face.motionGrid': tableWeights(random, this.model.face.motionGrid),
      'face.audioAttention': mlpWeights(random, face.audioAttention),
      'face.expressionAttention': mlpWeights(random, face.expressionAttention),
      'face.expressionEncoder': mlpWeights(random, face.expressionEncoder),
      'face.decoder': mlpWeights(random, face.decoder, 0),
      'mouth.motionGrid': tableWeights(random, this.model.mouth.motionGrid),
      'mouth.audioAttention': mlpWeights(random, mouth.audioAttention),
      'mouth.decoder': mlpWeights(random, mouth.decoder, 0),
      'mouth.hookScaler': mlpWeights(random, mouth.hookScaler, 0),
    };
  }
}

/** One video's personalised motion fields on the training device, with gradient buffers. */
export class PersonalField {
  private readonly values = new Map<PersonalTensorName, Tensor<'f32'>>();
  private readonly grads = new Map<PersonalTensorName, Tensor<'f32'>>();

  constructor(
    device: DeviceKind,
    readonly ops: PersonalFieldOps,
    weights: PersonalWeights,
  ) {
    const sizes = ops.sizes();
    for (const name of PERSONAL_TENSORS) {
      const data = weights[name];
      if (data?.length !== sizes[name])
        throw new RangeError(
          `personal field "${name}" has ${data?.length ?? 0} values, its layout needs ${sizes[name]}`,
        );
      this.values.set(name, Tensor.from(device, 'f32', [sizes[name]], data));
      this.grads.set(name, Tensor.zeros(device, 'f32', [sizes[name]]));
    }
  }

  value(name: PersonalTensorName): Tensor<'f32'> {
    return this.values.get(name) as Tensor<'f32'>;
  }

  grad(name: PersonalTensorName): Tensor<'f32'> {
    return this.grads.get(name) as Tensor<'f32'>;
  }

  /** The tensor names of one branch's field. */
  static namesOf(branch: Branch): PersonalTensorName[] {
    return PERSONAL_TENSORS.filter((name) => name.startsWith(`${branch}.`));
  }

  faceWeights(kind: 'value' | 'grad') {
    const pick = (name: PersonalTensorName) => [kind === 'value' ? this.value(name) : this.grad(name)];
    return {
      audioAttention: pick('face.audioAttention'),
      expressionAttention: pick('face.expressionAttention'),
      expressionEncoder: pick('face.expressionEncoder'),
      decoder: pick('face.decoder'),
    };
  }

  mouthWeights(kind: 'value' | 'grad') {
    const pick = (name: PersonalTensorName) => [kind === 'value' ? this.value(name) : this.grad(name)];
    return {
      audioAttention: pick('mouth.audioAttention'),
      decoder: pick('mouth.decoder'),
      hookScaler: pick('mouth.hookScaler'),
    };
  }

  read(): PersonalWeights {
    return Object.fromEntries(PERSONAL_TENSORS.map((name) => [name, this.value(name).read()])) as PersonalWeights;
  }

  dispose(): void {
    for (const t of [...this.values.values(), ...this.grads.values()]) t.dispose();
    this.values.clear();
    this.grads.clear();
  }
}
