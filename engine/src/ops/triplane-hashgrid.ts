// Tri-plane multi-resolution hash encoder as an object (config, parameter layout, forward).
import { addon, type HashgridConfigArg } from '../native/addon.js';
import type { Tensor } from '../tensor.js';

export interface HashgridConfig {
  /** Levels per plane (paper and official code: 12). */
  levels: number;
  /** Features per level (official code: 1). */
  features: number;
  /** Hash table size per level is 2^log2Table (official code: 17). */
  log2Table: number;
  /** Coarsest level resolution (face 16, mouth 64). */
  baseResolution: number;
  /** Finest level resolution (paper: face 256, mouth 384). */
  maxResolution: number;
  /** Positions in [-bound, bound] map onto the grid (official code: 0.15). */
  bound: number;
}

export class TriplaneHashgrid {
  readonly paramCount: number;
  readonly outputDim: number;
  /** Vertices per side of each level's dense grid. */
  readonly resolution: readonly number[];

  constructor(readonly config: HashgridConfig) {
    const layout = addon.hashgridLayout(config satisfies HashgridConfigArg);
    this.paramCount = layout.paramCount;
    this.outputDim = layout.outputDim;
    this.resolution = layout.resolution;
  }

  /**
   * Encodes rows of xyz ([rows, 3], all segments concatenated) into out ([rows, outputDim]).
   * Segment s has rowCounts[s] rows and uses tables[s] ([paramCount]).
   */
  forward(
    rowCounts: readonly number[],
    xyz: Tensor<'f32'>,
    tables: readonly Tensor<'f32'>[],
    out: Tensor<'f32'>,
  ): void {
    addon.triplaneHashgridForward(
      xyz.device === 'cuda' ? 1 : 0,
      this.config,
      [...rowCounts],
      xyz.native,
      tables.map((t) => t.native),
      out.native,
    );
  }

  /**
   * Backward of forward(): from gradOut ([rows, outputDim], dL/d out) ADDS dL/d tables into gradTables[s]
   * ([paramCount] per segment; zeroed by the trainer once per step; segments of one identity may share one) and,
   * unless gradXyz is null, WRITES dL/d xyz into gradXyz ([rows, 3]; zero along axes clamped to the bound).
   */
  backward(
    rowCounts: readonly number[],
    xyz: Tensor<'f32'>,
    tables: readonly Tensor<'f32'>[],
    gradOut: Tensor<'f32'>,
    gradTables: readonly Tensor<'f32'>[],
    gradXyz: Tensor<'f32'> | null,
  ): void {
    addon.triplaneHashgridBackward(
      xyz.device === 'cuda' ? 1 : 0,
      this.config,
      [...rowCounts],
      xyz.native,
      tables.map((t) => t.native),
      gradOut.native,
      gradTables.map((t) => t.native),
      gradXyz ? gradXyz.native : null,
    );
  }
}
