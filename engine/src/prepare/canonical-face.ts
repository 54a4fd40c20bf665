// MediaPipe's canonical face model: the mean 3D face (468 vertices) its face-geometry module fits the mesh against,
// and the weighted set of rigid landmarks it uses for that fit ("Procrustes basis": points on the forehead, nose,
// cheekbones and eye corners that barely move with expression). @mediapipe/face_mesh ships it inside its packed
// asset file as geometry_pipeline_metadata_landmarks.binarypb (a GeometryPipelineMetadata protobuf); the loader
// script next to it lists each packed file's byte range.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrepareError } from './errors.js';
import { MESH_POINTS } from './landmarks.js';

const require = createRequire(import.meta.url);
const PACKED = 'face_mesh_solution_packed_assets.data';
const LOADER = 'face_mesh_solution_packed_assets_loader.js';
const METADATA = 'geometry_pipeline_metadata_landmarks.binarypb';
/** Vertex buffer layout of the canonical mesh: x, y, z, then texture u, v. */
const VERTEX_FLOATS = 5;

export interface CanonicalFace {
  /** [468, 3] vertices in canonical head space (metres, x right, y down, z away from the camera). */
  vertices: Float64Array;
  /** Rigid landmarks for pose fitting and their weights (they sum to 1). */
  rigid: { index: number; weight: number }[];
  /** [T, 3] the mesh's triangles (vertex indices): the surface the geometry prior of adaptation renders. */
  triangles: Uint32Array;
}

/** Minimal protobuf reader: the fields of one message, as [field number, wire type, value]. */
function* protoFields(bytes: Uint8Array): Generator<[number, number, number | Uint8Array]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= bytes.length) throw new PrepareError(`${METADATA}: truncated varint`);
      const b = bytes[at++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const [field, wire] = [Math.floor(key / 8), key % 8];
    if (wire === 0) yield [field, wire, varint()];
    else if (wire === 5) {
      if (at + 4 > bytes.length) throw new PrepareError(`${METADATA}: truncated float`);
      yield [field, wire, view.getFloat32(at, true)];
      at += 4;
    } else if (wire === 2) {
      const length = varint();
      if (at + length > bytes.length) throw new PrepareError(`${METADATA}: truncated field`);
      yield [field, wire, bytes.subarray(at, at + length)];
      at += length;
    } else throw new PrepareError(`${METADATA}: unexpected protobuf wire type ${wire}`);
  }
}

/** Repeated float field values, packed (wire type 2) or one per entry (wire type 5). */
function floats(value: number | Uint8Array): number[] {
  if (typeof value === 'number') return [value];
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: value.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

/** Repeated uint32 field values, packed (wire type 2, varints) or one per entry (wire type 0). */
function varints(value: number | Uint8Array): number[] {
  if (typeof value === 'number') return [value];
  const out: number[] = [];
  let [v, shift] = [0, 0];
  for (const b of value) {
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) {
      out.push(v);
      [v, shift] = [0, 0];
    }
  }
  if (shift !== 0) throw new PrepareError(`${METADATA}: truncated packed varints`);
  return out;
}

/**
 * Parses GeometryPipelineMetadata {canonical_mesh = 1 {vertex_buffer = 3, index_buffer = 4},
 * procrustes_landmark_basis = 2}.
 */
export function parseGeometryMetadata(bytes: Uint8Array): CanonicalFace {
  const raw: number[] = [];
  const indices: number[] = [];
  const rigid: { index: number; weight: number }[] = [];
  for (const [field, , value] of protoFields(bytes)) {
    if (field === 1 && value instanceof Uint8Array) {
      for (const [meshField, , v] of protoFields(value)) {
        if (meshField === 3) raw.push(...floats(v));
        if (meshField === 4) indices.push(...varints(v));
      }
    } else if (field === 2 && value instanceof Uint8Array) {
      const entry = { index: -1, weight: 0 };
      for (const [f, , v] of protoFields(value)) {
        if (f === 1 && typeof v === 'number') entry.index = v;
        if (f === 2 && typeof v === 'number') entry.weight = v;
      }
      rigid.push(entry);
    }
  }
  if (raw.length !== MESH_POINTS * VERTEX_FLOATS)
    throw new PrepareError(`${METADATA}: ${raw.length / VERTEX_FLOATS} canonical vertices, expected ${MESH_POINTS}`);
  if (indices.length === 0 || indices.length % 3 !== 0 || indices.some((i) => i >= MESH_POINTS))
    throw new PrepareError(`${METADATA}: the canonical mesh's triangles are missing or malformed`);
  if (rigid.length < 6 || rigid.some((r) => r.index < 0 || r.index >= MESH_POINTS || !(r.weight > 0)))
    throw new PrepareError(`${METADATA}: the rigid landmark basis is missing or malformed`);
  // MediaPipe's axes are y up and z towards the viewer, in centimetres: negate y and z, scale to metres, and put
  // the origin between the sides of the head at ear height (vertices 234 and 454), near the head's centre.
  const vertices = new Float64Array(MESH_POINTS * 3);
  for (let i = 0; i < MESH_POINTS; i++) {
    vertices[3 * i] = (raw[VERTEX_FLOATS * i] as number) / 100;
    vertices[3 * i + 1] = -(raw[VERTEX_FLOATS * i + 1] as number) / 100;
    vertices[3 * i + 2] = -(raw[VERTEX_FLOATS * i + 2] as number) / 100;
  }
  for (let axis = 0; axis < 3; axis++) {
    const origin = ((vertices[3 * 234 + axis] as number) + (vertices[3 * 454 + axis] as number)) / 2;
    for (let i = 0; i < MESH_POINTS; i++) vertices[3 * i + axis] = (vertices[3 * i + axis] as number) - origin;
  }
  const total = rigid.reduce((sum, r) => sum + r.weight, 0);
  return {
    vertices,
    rigid: rigid.map((r) => ({ index: r.index, weight: r.weight / total })),
    triangles: Uint32Array.from(indices),
  };
}

/** The package folder of @mediapipe/face_mesh (resolved through its main file). */
function faceMeshDir(): string {
  return path.dirname(require.resolve('@mediapipe/face_mesh'));
}

export async function loadCanonicalFace(dir = faceMeshDir()): Promise<CanonicalFace> {
  const loader = await readFile(path.join(dir, LOADER), 'utf8').catch(() => {
    throw new PrepareError(`cannot read ${path.join(dir, LOADER)}: is @mediapipe/face_mesh installed?`);
  });
  const entry = new RegExp(
    `"filename":\\s*"[^"]*/${METADATA.replace('.', '\\.')}",\\s*"start":\\s*(\\d+),\\s*"end":\\s*(\\d+)`,
  );
  const match = entry.exec(loader);
  if (!match) throw new PrepareError(`${LOADER} does not list ${METADATA}`);
  const packed = await readFile(path.join(dir, PACKED));
  const [start, end] = [Number(match[1]), Number(match[2])];
  if (end > packed.length) throw new PrepareError(`${PACKED} is ${packed.length} bytes, ${METADATA} ends at ${end}`);
  return parseGeometryMetadata(packed.subarray(start, end));
}
