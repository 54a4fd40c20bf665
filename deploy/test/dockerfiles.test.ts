// Offline checks of the production Dockerfiles, in place of hadolint (neither it nor a Docker engine installs here,
// so the images are NOT built by this test): dockerfile-utils' linter (the one behind VS Code's Docker support) must
// find nothing; then the project's rules: multi-stage, a CUDA *runtime* base for the GPU image and a slim one for
// the CPU image, non-root at run time, tini for signals (the drain), the health check on /healthz, every SPLATCAST_*
// variable one the server reads, and the build stage installing what scripts/setup-system.sh lists for building.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { validate } from 'dockerfile-utils';
import t from 'tap';
import { deployDir, repoDir } from './render.js';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with their continuation lines joined (comments dropped). */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!current && (line.trim().startsWith('#') || line.trim() === '')) return;
    if (!current) start = i + 1;
    current += `${line.replace(/\\$/, '')} `;
    if (!line.endsWith('\\')) {
      const [keyword = '', ...rest] = current.trim().split(/\s+/);
      out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
      current = '';
    }
  });
  return out;
}

/** The instructions of each stage, by FROM. */
function stages(list: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const i of list) {
    if (i.keyword === 'FROM') out.push([]);
    out.at(-1)?.push(i);
  }
  return out;
}

const apt = (stage: Instruction[]) =>
  stage
    .filter((i) => i.keyword === 'RUN' && i.args.includes('apt-get install'))
    .flatMap((i) => (i.args.split('--no-install-recommends')[1] ?? '').split('&&')[0]?.trim().split(/\s+/) ?? []);

const serverConfig = (await import(path.join(repoDir, 'server', 'dist', 'config.js'))) as {
  STREAMING_ENV: Record<string, unknown>;
};
const adminConfig = (await import(path.join(repoDir, 'server', 'dist', 'admin', 'config.js'))) as {
  ADMIN_ENV: Record<string, unknown>;
};
const KNOWN_ENV = new Set([...Object.keys(serverConfig.STREAMING_ENV), ...Object.keys(adminConfig.ADMIN_ENV)]);

/** What scripts/setup-system.sh installs, less what only the tests use. */
const setupPackages = (() => {
  const script = readFileSync(path.join(repoDir, 'scripts', 'setup-system.sh'), 'utf8');
  const list = /packages=\(([^)]*)\)/.exec(script)?.[1] ?? '';
  return list
    .split(/\s+/)
    .filter(Boolean)
    .filter((p) => !['chromium', 'redis-server', 'ffmpeg'].includes(p));
})();

for (const [file, variant] of [
  ['Dockerfile.cpu', 'cpu'],
  ['Dockerfile.gpu', 'gpu'],
] as const) {
  t.test(file, async (t) => {
    const text = readFileSync(path.join(deployDir, 'docker', file), 'utf8');
    const problems = validate(text);
    t.same(
      problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`),
      [],
      'dockerfile-utils finds nothing',
    );
    const all = instructions(text);
    const byStage = stages(all);
    t.ok(byStage.length >= 2, `multi-stage (${byStage.length} stages)`);
    const runtime = byStage.at(-1) as Instruction[];
    const base = runtime[0]?.args ?? '';
    if (variant === 'gpu')
      t.match(base, /^nvidia\/cuda:\$\{CUDA_VERSION\}-runtime-/, 'a CUDA runtime base (not devel)');
    else t.match(base, /^node:20-bookworm-slim/, 'a slim Debian base');
    const build = byStage.find((s) => s.some((i) => i.keyword === 'RUN' && i.args.includes('npm ci'))) as Instruction[];
    t.ok(build && build !== runtime, 'built in a stage of its own');
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.args;
    t.ok(user && !/^(root|0)(:|$)/.test(user), `runs as ${user}, not root`);
    t.same(
      runtime.find((i) => i.keyword === 'ENTRYPOINT')?.args,
      '["tini", "--"]',
      'tini passes SIGTERM on (the drain) and reaps workers',
    );
    t.match(runtime.find((i) => i.keyword === 'CMD')?.args, /server\/dist\/main\.js/);
    t.match(runtime.find((i) => i.keyword === 'HEALTHCHECK')?.args, /\/healthz/);
    const env = runtime
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i) => [...i.args.matchAll(/(SPLATCAST_\w+)=/g)].map((m) => m[1]));
    t.ok(env.length > 5, `${env.length} SPLATCAST_* variables set`);
    for (const name of env) t.ok(KNOWN_ENV.has(name as string), `${name} is a variable the server reads`);
    t.ok(
      text.includes(variant === 'gpu' ? 'SPLATCAST_CUDA=on' : 'SPLATCAST_CUDA=off'),
      'the CUDA build switch is explicit',
    );
    const packages = new Set(apt(build));
    const missing = setupPackages.filter((p) => !packages.has(p));
    t.same(missing, [], 'the build stage installs every build package of scripts/setup-system.sh');
    t.match(
      runtime.find((i) => i.keyword === 'EXPOSE')?.args,
      /8080 8081 \d+-\d+\/udp/,
      'signalling, admin and the UDP range',
    );
  });
}

t.test('the checks catch a bad Dockerfile', async (t) => {
  t.ok(validate('FROM node\nCOPY onlyone\nUSR node\n').length >= 2, 'the linter reports problems');
  const single = stages(instructions('FROM node:20\nRUN npm ci\nCMD ["node"]\n'));
  t.equal(single.length, 1, 'a single-stage file is seen as such');
  t.same(
    apt(instructions('RUN apt-get install -y --no-install-recommends a b \\\n  c && rm -rf x\n')),
    ['a', 'b', 'c'],
    'package lists across continuation lines',
  );
});
