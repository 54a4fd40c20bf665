import { parseArgs } from 'node:util';
import { prepareDataset } from '../prepare/prepare-dataset.js';

const USAGE =
  'usage: splatcast prepare VIDEO --out DIR [--size 512] [--max-seconds N] [--test-fraction 0.1]\n' +
  '                         [--audio-encoder MODEL.onnx] [--multiple-faces error|largest]\n' +
  '                         [--max-duration 300] [--max-file-mb 2048]\n' +
  'Turns a video of one person speaking (any container/codec ffmpeg reads, at least 3 s) into a training dataset:\n' +
  '25-fps frames cropped to a square around the head, 478 landmarks, per-frame cameras, masks, background and torso\n' +
  "plates, expression signals, 16-kHz audio, log-mel features (and an ONNX encoder's, if given), a train/test split\n" +
  'and contact-sheet.png (docs/dataset-format.md).\n' +
  '  --max-seconds N       use only the first N seconds\n' +
  '  --multiple-faces      "error" (default) rejects a video showing two or more people; "largest" tracks the\n' +
  '                        largest face\n' +
  '  --max-duration S      reject videos longer than S seconds (after --max-seconds)\n' +
  '  --max-file-mb N       reject files larger than N MiB';

export async function prepareCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      size: { type: 'string', default: '512' },
      'max-seconds': { type: 'string' },
      'test-fraction': { type: 'string', default: '0.1' },
      'audio-encoder': { type: 'string' },
      'multiple-faces': { type: 'string', default: 'error' },
      'max-duration': { type: 'string' },
      'max-file-mb': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [video] = positionals;
  if (values.help || !video || !values.out || positionals.length > 1) {
    console.log(USAGE);
    if (!values.help) process.exitCode = 2;
    return;
  }
  const number = (name: string, text: string, ok: (n: number) => boolean) => {
    const n = Number(text);
    if (!ok(n)) throw new Error(`--${name}: invalid value "${text}"`);
    return n;
  };
  const size = number('size', values.size, (n) => Number.isInteger(n) && n >= 64 && n <= 4096);
  const maxSeconds = values['max-seconds'] ? number('max-seconds', values['max-seconds'], (n) => n > 0) : undefined;
  const testFraction = number('test-fraction', values['test-fraction'], (n) => n >= 0 && n < 1);
  const maxDuration = values['max-duration'] ? number('max-duration', values['max-duration'], (n) => n > 0) : undefined;
  const maxFileMb = values['max-file-mb'] ? number('max-file-mb', values['max-file-mb'], (n) => n > 0) : undefined;
  const multipleFaces = values['multiple-faces'];
  if (multipleFaces !== 'error' && multipleFaces !== 'largest')
    throw new Error(`--multiple-faces: expected "error" or "largest", got "${multipleFaces}"`);
  const started = performance.now();
  let [line, shownAt] = ['', 0];
  const { manifest, timings } = await prepareDataset(video, values.out, {
    size,
    testFraction,
    limits: {
      maxSeconds,
      maxDuration,
      ...(maxFileMb === undefined ? {} : { maxFileBytes: Math.round(maxFileMb * 2 ** 20) }),
    },
    gaps: { multipleFaces },
    ...(values['audio-encoder'] ? { audioEncoder: values['audio-encoder'] } : {}),
    onProgress: (stage, done, total) => {
      const elapsed = ((performance.now() - started) / 1000).toFixed(1);
      const next = done === undefined ? `${stage}...` : `${stage} ${done}/${total ?? '?'} frames`;
      // One line, redrawn at most 5 times a second (and at every stage change).
      const now = performance.now();
      if (next.split(' ')[0] === line.split(' ')[0] && now - shownAt < 200) return;
      [line, shownAt] = [next, now];
      process.stderr.write(`\r${elapsed.padStart(6)} s  ${next}`.padEnd(60));
    },
  });
  process.stderr.write('\n');
  const t = manifest.tracking;
  console.log(
    `wrote ${values.out}: ${manifest.frameCount} frames at ${manifest.size}² (${t.tracked} tracked, ${t.interpolated} interpolated, ` +
      `${t.dropped} dropped), focal ${manifest.camera.intrinsics.fx.toFixed(0)} px, reprojection mean ` +
      `${manifest.reprojection.meanPx.toFixed(2)} px / max ${manifest.reprojection.maxPx.toFixed(2)} px, ` +
      `train ${manifest.split.train.join('..')} test ${manifest.split.test.join('..')}`,
  );
  console.log(
    `time ${((performance.now() - started) / 1000).toFixed(1)} s (${Object.entries(timings)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')})`,
  );
  if (t.droppedRanges.length > 0)
    console.log(`dropped frames (face lost): ${t.droppedRanges.map(([a, b]) => `${a}..${b - 1}`).join(', ')}`);
  if (t.interpolated > 0) console.log(`${t.interpolated} frames interpolated over short gaps in tracking`);
  for (const warning of manifest.warnings) console.warn(`warning: ${warning}`);
}
