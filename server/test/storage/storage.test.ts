// The storage layout (safe paths only, leftovers of a crash cleared at start) and atomic writes.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { publish, stagingPath, writeFileAtomic } from '../../src/storage/atomic.js';
import { DataDir, diskUsage, StorageError } from '../../src/storage/data-dir.js';
import { isId, newId } from '../../src/storage/ids.js';

const temp = async (t: { teardown(fn: () => unknown): void }) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-storage-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

t.test('ids: shape checked before they name anything', async (t) => {
  const id = newId('idn');
  t.match(id, /^idn_[0-9a-f]{20}$/);
  t.ok(isId(id, 'idn'));
  t.notOk(isId(id, 'job'), 'the kind must match');
  for (const bad of [
    'idn_../../etc/passwd',
    'idn_0123',
    `${id}/x`,
    `${id}\n`,
    '',
    42,
    null,
    'IDN_0123456789abcdef0123',
  ])
    t.notOk(isId(bad, 'idn'), JSON.stringify(bad));
});

t.test('paths stay inside the data directory', async (t) => {
  const data = new DataDir(await temp(t));
  const id = newId('idn');
  const p = data.identity(id);
  t.equal(p.root, path.join(data.root, 'identities', id));
  t.equal(p.package, path.join(p.root, 'package'));
  t.throws(() => data.identity('../../etc'), StorageError);
  t.throws(() => data.prior('pri_x'), StorageError);
  t.throws(() => data.job(''), StorageError);
  t.throws(() => data.inside('..', 'outside'), /outside the data directory/);
  t.throws(() => data.inside('/etc/passwd'), /outside the data directory/);
  t.throws(() => data.inside(), /outside the data directory/, 'not the root itself');
  await t.rejects(data.remove(path.join(data.root, '..')), StorageError);
});

t.test('start-up clears uploads in flight and interrupted staging folders, keeps the rest', async (t) => {
  const root = await temp(t);
  const data = new DataDir(root);
  await data.prepare();
  const id = newId('idn');
  await mkdir(path.join(data.identity(id).root, 'source'), { recursive: true });
  await writeFile(data.identity(id).source, 'video');
  await mkdir(path.join(root, 'identities', '.idn_x.staging-abc'), { recursive: true });
  await mkdir(path.join(data.incoming, 'upl_1'), { recursive: true });
  await writeFile(path.join(data.incoming, 'upl_1', 'video'), 'half an upload');
  await data.prepare();
  t.same(await readdir(path.join(root, 'identities')), [id]);
  t.same(await readdir(data.incoming), []);
  t.equal(await readFile(data.identity(id).source, 'utf8'), 'video');
  t.equal(await diskUsage(root), 5);
  t.equal(await diskUsage(path.join(root, 'nothing')), 0);
});

t.test('writeFileAtomic: whole content or the old one, never a staging file left', async (t) => {
  const dir = await temp(t);
  const file = path.join(dir, 'a', 'b.json');
  await writeFileAtomic(file, 'one', 0o600);
  t.equal(await readFile(file, 'utf8'), 'one');
  t.equal((await stat(file)).mode & 0o777, 0o600);
  await writeFileAtomic(file, 'two');
  t.equal(await readFile(file, 'utf8'), 'two');
  t.same(await readdir(path.dirname(file)), ['b.json']);
  await t.rejects(writeFileAtomic(path.join(file, 'under-a-file'), 'x'), 'a path under a file fails');
  t.same(await readdir(path.dirname(file)), ['b.json']);
  t.match(path.basename(stagingPath(file)), /^\.b\.json\.staging-[0-9a-f]{12}$/);
});

t.test('publish: a complete folder replaces the old one', async (t) => {
  const dir = await temp(t);
  const target = path.join(dir, 'package');
  for (const version of ['v1', 'v2']) {
    const staging = stagingPath(target);
    await mkdir(staging);
    await writeFile(path.join(staging, 'content'), version);
    await publish(staging, target);
    t.equal(await readFile(path.join(target, 'content'), 'utf8'), version);
  }
  t.same(await readdir(dir), ['package'], 'the old folder and the staging one are gone');
});
