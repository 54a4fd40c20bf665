// A graph rewrite for tfjs graph models converted from TensorFlow: TensorFlow lowers a dilated ("atrous")
// convolution to SpaceToBatchND -> Conv2D or DepthwiseConv2dNative (VALID, dilation 1) -> BatchToSpaceND. On the
// tfjs WASM backend those two reshuffles cost more than the convolution itself (in RVM, a third of the time per
// frame for three such layers), while its convolution kernels take the dilation directly. The rewrite turns each
// such chain back into one dilated convolution on the chain's input: the same arithmetic, so the same output
// (engine/test/prepare-masks.test.ts compares the two).
import type * as tf from '@tensorflow/tfjs-core';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { list?: { i?: string[] }; s?: string; tensor?: unknown }>;
}

const CONVOLUTIONS = new Set(['Conv2D', 'DepthwiseConv2dNative']);
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** An input reference's node name ("node:1" and control inputs "^node" name "node"). */
const nodeOf = (input: string) => input.replace(/^\^/, '').replace(/:\d+$/, '');

/** The int32 values of a weight, read from the artifacts' weight buffer; null if it cannot be located. */
function int32Weight(artifacts: tf.io.ModelArtifacts, name: string): number[] | null {
  const data = artifacts.weightData;
  if (!(data instanceof ArrayBuffer) || !artifacts.weightSpecs) return null;
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (bytes === undefined) return null; // strings: variable length, offsets beyond are unknown
    if (spec.name === name)
      // Quantized weights before it leave the offset unaligned: read through a DataView.
      return spec.dtype === 'int32' && !spec.quantization
        ? Array.from({ length: count }, (_, k) => new DataView(data, offset + 4 * k, 4).getInt32(0, true))
        : null;
    offset += count * bytes;
  }
  return null;
}

const isOnes = (list: string[] | undefined) => !list || list.every((v) => v === '1');

/** Fuses every SpaceToBatchND -> convolution -> BatchToSpaceND chain of the model's graph; returns how many. */
export function fuseDilatedConvolutions(artifacts: tf.io.ModelArtifacts): number {
  const graph = artifacts.modelTopology as { node?: GraphNode[] } | undefined;
  const nodes = graph?.node;
  if (!nodes) return 0;
  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes)
    for (const input of n.input ?? []) {
      const list = consumers.get(nodeOf(input)) ?? [];
      list.push(n);
      consumers.set(nodeOf(input), list);
    }
  const removed = new Set<string>();
  for (const toBatch of nodes) {
    if (toBatch.op !== 'SpaceToBatchND' || !toBatch.input || toBatch.input.length < 2) continue;
    const [conv, ...otherConv] = consumers.get(toBatch.name) ?? [];
    if (!conv || otherConv.length > 0 || !CONVOLUTIONS.has(conv.op) || !conv.input) continue;
    const padding = conv.attr?.padding?.s;
    if (padding !== undefined && Buffer.from(padding, 'base64').toString() !== 'VALID') continue;
    if (!isOnes(conv.attr?.dilations?.list?.i) || !isOnes(conv.attr?.strides?.list?.i)) continue;
    const [fromBatch, ...otherBack] = consumers.get(conv.name) ?? [];
    if (!fromBatch || otherBack.length > 0 || fromBatch.op !== 'BatchToSpaceND' || !fromBatch.input) continue;
    const block = int32Weight(artifacts, nodeOf(toBatch.input[1] as string));
    const back = int32Weight(artifacts, nodeOf(fromBatch.input[1] as string));
    if (block?.length !== 2 || !back || back.join() !== block.join()) continue;
    // The convolution now reads the chain's input, dilated by the block shape, and stands in for BatchToSpaceND.
    conv.input[0] = toBatch.input[0] as string;
    conv.attr = { ...conv.attr, dilations: { list: { i: ['1', String(block[0]), String(block[1]), '1'] } } };
    for (const user of consumers.get(fromBatch.name) ?? [])
      user.input = user.input?.map((input) =>
        nodeOf(input) !== fromBatch.name ? input : input.startsWith('^') ? `^${conv.name}` : conv.name,
      );
    removed.add(toBatch.name).add(fromBatch.name);
  }
  if (removed.size > 0) graph.node = nodes.filter((n) => !removed.has(n.name));
  return removed.size / 2;
}
