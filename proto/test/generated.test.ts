// The generated code is committed (proto/README.md says why); these tests keep it equal to what buf makes of the
// .proto files now, and keep src/ loadable in a browser.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const protoDir = fileURLToPath(new URL('..', import.meta.url));
// npm puts workspace binaries in the root's node_modules/.bin (or the workspace's own when versions clash).
const PATH = [join(protoDir, 'node_modules/.bin'), join(protoDir, '../node_modules/.bin'), process.env.PATH].join(':');

function buf(...args: string[]): string {
  return execFileSync('buf', args, { cwd: protoDir, env: { ...process.env, PATH }, encoding: 'utf8', stdio: 'pipe' });
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

t.test('src/gen is what `npm run generate` makes of the .proto files', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'splatcast-proto-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  buf('generate', '--output', out);
  const fresh = join(out, 'src/gen');
  const committed = join(protoDir, 'src/gen');
  t.same(files(committed), files(fresh), 'same files');
  for (const file of files(fresh)) {
    const same = readFileSync(join(fresh, file), 'utf8') === readFileSync(join(committed, file), 'utf8');
    t.ok(same, `${file} is current (run \`npm run generate --workspace proto\`)`);
  }
});

t.test('the .proto files pass buf lint (STANDARD)', async (t) => {
  t.equal(buf('lint'), '');
});

t.test('src imports nothing but @bufbuild/protobuf and itself, so it runs in browsers', async (t) => {
  const src = join(protoDir, 'src');
  for (const file of files(src)) {
    const code = readFileSync(join(src, file), 'utf8');
    for (const [, specifier] of code.matchAll(/from ["']([^"']+)["']/g)) {
      t.ok(specifier?.startsWith('.') || specifier?.startsWith('@bufbuild/protobuf'), `${file}: ${specifier}`);
    }
  }
});
