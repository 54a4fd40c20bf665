// Hostile uploads, each made at test time: truncated, wrong extension, empty, no face, two faces, an hour long, a
// huge header (HTTP and MP4), polyglots (HTML before the video, a script in its header, a ZIP after it), over the
// size limit. Each is refused with a clear error and the data directory holds exactly what it held before.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import t from 'tap';
import { ffmpeg, MAY, noMedia, scratch, startAdmin, storedBytes, upload } from './helpers.js';

/** A ZIP archive holding one stored file. */
function zip(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc32(data), 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nameBytes.length, 12);
  end.writeUInt32LE(30 + nameBytes.length + data.length, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

/** MP4 boxes at the top level: [type, offset, size]. */
function boxes(file: Buffer): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let at = 0; at < file.length; ) {
    const size = file.readUInt32BE(at);
    out.push([file.subarray(at + 4, at + 8).toString('latin1'), at, size]);
    at += size;
  }
  return out;
}

function box(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

t.test('hostile uploads are refused with a clear error and leave nothing behind', { skip: noMedia }, async (t) => {
  const dir = await scratch(t);
  const may = await readFile(MAY);
  const at = (name: string) => path.join(dir, name);
  const files: Record<string, [string, Buffer | string]> = {};

  files.truncated = ['may.mp4', may.subarray(0, Math.floor(may.length * 0.6))];
  files['wrong extension'] = ['may.webm', may];
  files['not a video extension'] = ['may.exe', may];
  files['zero bytes'] = ['empty.mp4', Buffer.alloc(0)];

  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=220:duration=4'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', at('no-face.mp4')],
  ]);
  files['no face'] = ['no-face.mp4', at('no-face.mp4')];
  await ffmpeg([
    ...['-t', '4', '-i', MAY, '-filter_complex', '[0:v]split[a][b];[b]hflip[c];[a][c]hstack,scale=640:320'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', at('two-faces.mp4')],
  ]);
  files['two faces'] = ['two-faces.mp4', at('two-faces.mp4')];
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=gray:s=64x64:r=1', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '3600'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '600', '-c:a', 'aac', '-b:a', '8k', at('hour.mp4')],
  ]);
  files['one hour long'] = ['hour.mp4', at('hour.mp4')];

  // may_5s has its moov box last: grow it with a 200 KiB child box (a header far over the 64 KiB limit set below).
  const [, moovAt, moovSize] = boxes(may).find(([type]) => type === 'moov') as [string, number, number];
  const junk = box('free', Buffer.alloc(200 * 1024, 0x41));
  const moov = Buffer.concat([may.subarray(moovAt, moovAt + moovSize), junk]);
  moov.writeUInt32BE(moov.length, 0);
  files['huge MP4 header'] = ['huge-header.mp4', Buffer.concat([may.subarray(0, moovAt), moov])];

  files['HTML before the video'] = ['page.mp4', Buffer.concat([Buffer.from('<html><script>alert(1)</script>'), may])];
  // The 8-byte free box after ftyp becomes one holding a script (offsets into mdat shift; the header check comes first).
  const [, freeAt] = boxes(may).find(([type]) => type === 'free') as [string, number, number];
  files['script in the header'] = [
    'script.mp4',
    Buffer.concat([
      may.subarray(0, freeAt),
      box('free', Buffer.from('<script>fetch("/x")</script>')),
      may.subarray(freeAt + 8),
    ]),
  ];
  files['ZIP after the video'] = ['zip.mp4', Buffer.concat([may, zip('index.html', '<html>polyglot</html>')])];
  files['data after the last box'] = ['tail.mp4', Buffer.concat([may, Buffer.from('#!/bin/sh\nrm -rf /\n')])];

  const expected: Record<string, [number, RegExp]> = {
    truncated: [422, /not a readable video: it is corrupt or truncated \(ffprobe: .*moov atom not found/],
    'wrong extension': [422, /named \.webm but its content is MP4\/MOV: wrong extension/],
    'not a video extension': [422, /the extension "\.exe" is not one of \.mp4, \.m4v, \.mov, \.webm, \.mkv/],
    'zero bytes': [422, /the file is empty \(0 bytes\)/],
    'no face': [422, /no face found in \d of \d sampled frames/],
    'two faces': [422, /two or more faces in \d of \d sampled frames/],
    'one hour long': [422, /the video is 3600\.0 s long; the limit is 300 s/],
    'huge MP4 header': [422, /the MP4 header \(moov box\) is 0\.2 MiB; the limit is 0\.1 MiB/],
    'HTML before the video': [422, /not an MP4, MOV, WebM or Matroska video \(it starts like "<html" content\)/],
    'script in the header': [422, /the header holds "<script": a file that is also another format \(polyglot\)/],
    'ZIP after the video': [422, /ends with a ZIP archive directory: a polyglot file is refused/],
    'data after the last box': [
      422,
      /unexpected data at offset 359008 \(.* is not an MP4 box\): the file carries something else/,
    ],
  };

  const h = await startAdmin(t, { uploads: { maxHeaderBytes: 64 * 1024, maxVideoBytes: 64 * 2 ** 20 } });
  const before = await storedBytes(h.dataDir);
  for (const [what, [fileName, content]] of Object.entries(files)) {
    const file = typeof content === 'string' ? content : at(`upload-${fileName}`);
    if (typeof content !== 'string') await writeFile(file, content);
    const started = performance.now();
    const r = await upload(h, file, fileName);
    const [status, message] = expected[what] as [number, RegExp];
    t.equal(r.status, status, `${what}: HTTP ${r.status}`);
    t.match(r.body.error?.message, message, `${what}: "${r.body.error?.message}"`);
    t.comment(`${what}: refused in ${(performance.now() - started).toFixed(0)} ms`);
    t.equal(await storedBytes(h.dataDir), before, `${what}: disk usage back to where it was`);
  }
  t.same(await readdir(path.join(h.dataDir, 'incoming')), []);
  t.same(await readdir(path.join(h.dataDir, 'identities')), []);
  t.equal((await h.json('GET', '/v1/identities')).body.identities.length, 0);
  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  t.match(metrics, /splatcast_uploads_rejected_total\{reason="bad-media"\} \d+/);
});

t.test('over the size limit: refused while it streams in', async (t) => {
  const h = await startAdmin(t, { uploads: { maxVideoBytes: 2 ** 20, faceScreen: false } });
  const dir = await scratch(t);
  const file = path.join(dir, 'big.mp4');
  await writeFile(file, Buffer.alloc(3 * 2 ** 20, 1));
  const before = await storedBytes(h.dataDir);
  const r = await upload(h, file);
  t.equal(r.status, 413);
  t.match(r.body.error?.message, /larger than the limit of 1 MiB/);
  t.equal(await storedBytes(h.dataDir), before);
});

t.test('huge HTTP headers are refused before any handler runs', async (t) => {
  const h = await startAdmin(t);
  const r = await fetch(`${h.url}/v1/identities`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.key}`, 'x-padding': 'a'.repeat(64 * 1024) },
  }).catch((error: Error) => error);
  t.ok(
    r instanceof Error || r.status === 431,
    `431 or connection refused (${r instanceof Error ? r.message : r.status})`,
  );
  const multipartHeader = `--b\r\ncontent-disposition: form-data; name="video"; filename="${'x'.repeat(100_000)}.mp4"\r\n\r\nabc\r\n--b--\r\n`;
  const bad = await h.call('POST', '/v1/identities', {
    body: multipartHeader,
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
  });
  t.ok(bad.status === 400 || bad.status === 413, `a huge part header: ${bad.status}`);
  t.same(await readdir(path.join(h.dataDir, 'incoming')), []);
  t.equal((await h.json('GET', '/healthz')).status, 200, 'the server is fine');
});
