// The face models, loaded from the npm-installed files with no network: BlazeFace (detector), FaceMesh (468 points)
// and Iris (eye contours + iris), the tfjs graph-model conversions that @vladmandic/human ships in its models/ folder
// (MediaPipe's models, Apache-2.0). They run on the tfjs WASM backend (pure npm, no native build, no download).
// Only the model files of human are used: its own pipeline truncates landmarks to whole pixels, which adds up to a
// pixel of jitter, so the pre- and post-processing is ours (face-detector.ts, face-mesh.ts).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type GraphModel, loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { PrepareError } from './errors.js';

const require = createRequire(import.meta.url);

/** The folder holding human's model files (the package's exports hide package.json, so resolve its main file). */
export function humanModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models');
}

/** Changes a loaded model's graph before tfjs compiles it (see dilated-convolutions.ts). */
export type GraphRewrite = (artifacts: tf.io.ModelArtifacts) => void;

/** An IO handler reading a graph model (model.json + weight shards) from disk: tfjs has none for Node without tfjs-node. */
function fileModel(jsonPath: string, rewrite?: GraphRewrite): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(await readFile(jsonPath, 'utf8')) as tf.io.ModelJSON;
      const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const shards = await Promise.all(
          manifest.flatMap((group) => group.paths.map((p) => readFile(path.join(path.dirname(jsonPath), p)))),
        );
        const all = Buffer.concat(shards);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
      rewrite?.(artifacts);
      return artifacts;
    },
  };
}

export interface FaceModels {
  detector: GraphModel;
  mesh: GraphModel;
  iris: GraphModel;
}

let backendReady: Promise<void> | undefined;

/** Selects the WASM backend once per process (its .wasm files load from the installed package folder). */
export function useWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(`${wasmDir}${path.sep}`);
    if (!(await tf.setBackend('wasm'))) throw new PrepareError('the tfjs WASM backend failed to initialise');
    await tf.ready();
  })();
  return backendReady;
}

/** Loads a tfjs graph model (`file` = its model.json) from disk for the WASM backend; `what` names it in errors. */
export async function loadModelFile(file: string, what: string, rewrite?: GraphRewrite): Promise<GraphModel> {
  await useWasmBackend();
  try {
    return await loadGraphModel(fileModel(file, rewrite));
  } catch (error) {
    throw new PrepareError(`cannot load the ${what} ${file}: ${(error as Error).message}`);
  }
}

export async function loadFaceModels(dir = humanModelDir()): Promise<FaceModels> {
  const load = (name: string) => loadModelFile(path.join(dir, `${name}.json`), 'face model');
  const [detector, mesh, iris] = await Promise.all([load('blazeface'), load('facemesh'), load('iris')]);
  return { detector, mesh, iris };
}
