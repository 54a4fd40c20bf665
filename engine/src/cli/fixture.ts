import { parseArgs } from 'node:util';
import { makeFixtureIdentity } from '../identity/fixture.js';

export async function fixtureCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      face: { type: 'string', default: '40000' },
      mouth: { type: 'string', default: '8000' },
      frames: { type: 'string', default: '125' },
      seed: { type: 'string', default: '1' },
      plate: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.out) {
    console.log(
      'usage: splatcast fixture --out DIR [--face 40000] [--mouth 8000] [--frames 125] [--seed 1] [--plate VIDEO]\n' +
        'Writes a generated identity labelled "fixture": random Gaussians and networks, for tests and benchmarks.\n' +
        '--plate cuts the background plate from the first frame of a video; without it the plate is synthetic.',
    );
    if (!values.help) process.exitCode = 2;
    return;
  }
  const count = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
    return n;
  };
  const identity = await makeFixtureIdentity({
    out: values.out,
    faceGaussians: count('face', values.face),
    mouthGaussians: count('mouth', values.mouth),
    frames: count('frames', values.frames),
    seed: count('seed', values.seed),
    ...(values.plate ? { plateSource: values.plate } : {}),
  });
  const m = identity.manifest;
  console.log(
    `fixture identity "${m.name}" written to ${values.out}: ${m.gaussians.face} face + ${m.gaussians.mouth} mouth Gaussians, ` +
      `${identity.tracks.frames} frames, ${m.render.width}x${m.render.height}`,
  );
}
