// The PNG decoder pool: pixels as pngjs decodes them on the main thread, the order of many decodes kept, and every
// bad file (missing, not a PNG, truncated) a clear error that does not take the pool down.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import t from 'tap';
import { PngDecodeError, PngDecoderPool } from '../src/prepare/png-decoder.js';

const dir = await mkdtemp(path.join(tmpdir(), 'splatcast-png-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const pool = new PngDecoderPool(3);
t.teardown(() => pool.close());

/** A w x h RGB PNG whose pixels encode their position and `seed`; returns its file and RGB bytes. */
async function rgbPng(name: string, w: number, h: number, seed: number) {
  const png = new PNG({ width: w, height: h });
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++)
    for (let c = 0; c < 4; c++) {
      const v = c === 3 ? 255 : (i * 7 + c * 31 + seed * 13) % 256;
      png.data[4 * i + c] = v;
      if (c < 3) rgb[3 * i + c] = v;
    }
  const file = path.join(dir, name);
  await writeFile(file, PNG.sync.write(png));
  return { file, rgb };
}

t.test('RGB and grey pixels match pngjs, in the order asked, across workers', async (t) => {
  const images = await Promise.all(Array.from({ length: 12 }, (_, k) => rgbPng(`f${k}.png`, 17 + k, 9, k)));
  const decoded = await Promise.all(images.map((im) => pool.decode(im.file, 3)));
  for (const [k, d] of decoded.entries()) {
    t.equal(d.width, 17 + k);
    t.equal(d.height, 9);
    t.same(d.data, images[k]?.rgb, `image ${k}`);
  }
  const grey = await pool.decode(images[0]?.file as string, 1);
  const rgb = images[0]?.rgb as Uint8Array;
  t.same(
    grey.data,
    Uint8Array.from({ length: rgb.length / 3 }, (_, i) => rgb[3 * i] as number),
    'grey reads the red channel',
  );
});

t.test('a missing, a non-PNG and a truncated file each fail alone, naming the file', async (t) => {
  const good = await rgbPng('good.png', 8, 8, 1);
  const notPng = path.join(dir, 'text.png');
  await writeFile(notPng, 'hello, not an image');
  const truncated = path.join(dir, 'truncated.png');
  const bytes = PNG.sync.write(new PNG({ width: 64, height: 64 }));
  await writeFile(truncated, bytes.subarray(0, bytes.length / 2));
  const missing = path.join(dir, 'nope.png');
  const results = await Promise.allSettled([missing, notPng, truncated, good.file].map((f) => pool.decode(f, 3)));
  const errors = results.slice(0, 3).map((r) => (r.status === 'rejected' ? (r.reason as PngDecodeError) : null));
  t.ok(errors.every((e) => e instanceof PngDecodeError));
  t.equal(errors[0]?.reason, 'unreadable');
  t.match(errors[0]?.message, `${missing} is missing or unreadable`);
  t.equal(errors[1]?.reason, 'invalid');
  t.match(errors[1]?.message, `${notPng} is not a valid PNG`);
  t.equal(errors[2]?.reason, 'invalid');
  t.equal(results[3]?.status, 'fulfilled', 'the good file beside them decodes');
  t.same((await pool.decode(good.file, 3)).data, good.rgb, 'and the pool still works afterwards');
});

t.test('a closed pool refuses work', async (t) => {
  const closing = new PngDecoderPool(1);
  const im = await rgbPng('c.png', 4, 4, 2);
  await closing.decode(im.file, 3);
  await closing.close();
  await t.rejects(closing.decode(im.file, 3), /closed/);
  t.throws(() => new PngDecoderPool(0), RangeError);
});
