// The op objects one model config needs, built once per config and shared by every batch that uses it.
import type { ModelConfig } from '../model/config.js';
import { AudioAttNet, AudioNet } from '../ops/audio-net.js';
import { Mlp } from '../ops/mlp.js';
import { FaceMotionField, MouthMotionField } from '../ops/motion-field.js';
import { TriplaneHashgrid } from '../ops/triplane-hashgrid.js';

export interface BranchOps {
  alignerGrid: TriplaneHashgrid;
  aligner: Mlp;
  motionGrid: TriplaneHashgrid;
}

export class ModelOps {
  readonly face: BranchOps & { motion: FaceMotionField };
  readonly mouth: BranchOps & { motion: MouthMotionField };
  readonly audioNet: AudioNet;
  readonly audioAttention: AudioAttNet;

  constructor(readonly model: ModelConfig) {
    const branch = (b: ModelConfig['face'] | ModelConfig['mouth']): BranchOps => ({
      alignerGrid: new TriplaneHashgrid(b.alignerGrid),
      aligner: new Mlp(b.aligner),
      motionGrid: new TriplaneHashgrid(b.motionGrid),
    });
    this.face = { ...branch(model.face), motion: new FaceMotionField(model.face) };
    this.mouth = { ...branch(model.mouth), motion: new MouthMotionField(model.mouth) };
    this.audioNet = new AudioNet(model.audio);
    this.audioAttention = new AudioAttNet(model.audio);
  }
}
