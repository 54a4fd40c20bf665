// Renders the Kustomize overlays the way an operator does (`kubectl kustomize`, whose Kustomize is the reference
// implementation) and parses the result with the `yaml` package. Without kubectl the manifest tests skip and say so.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const deployDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(deployDir, '..');
export const kubernetesDir = path.join(deployDir, 'kubernetes');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export const kubectl: true | string = (() => {
  const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return probe.status === 0
    ? true
    : 'kubectl (with its built-in Kustomize) is not installed: the manifests were not rendered';
})();

/** `kubectl kustomize DIR`, parsed; throws with Kustomize's own message when the render fails. */
export function render(dir: string): K8sObject[] {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${run.stderr}`);
  const docs = parseAllDocuments(run.stdout);
  for (const doc of docs) if (doc.errors.length) throw new Error(`${dir}: ${doc.errors[0]?.message}`);
  return docs.map((d) => d.toJS() as K8sObject).filter((o) => o !== null);
}

/** An overlay of `base` plus `components`, written to a scratch folder (what an operator's own overlay would be). */
export function renderWith(components: string[]): K8sObject[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'splatcast-overlay-'));
  const rel = (p: string) => path.relative(dir, path.join(kubernetesDir, p));
  writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${JSON.stringify(rel('base'))}]`,
      `components: [${components.map((c) => JSON.stringify(rel(`components/${c}`))).join(', ')}]`,
      '',
    ].join('\n'),
  );
  return render(dir);
}
