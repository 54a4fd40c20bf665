// Speech-like audio for the streaming benchmarks: voiced harmonics (a drifting 130 Hz pitch, six harmonics) in
// syllable-rate bursts, 16 kHz mono. It drives the mouth like speech does without needing a recording.
export function speechSignal(samples: number, seed: number): Float32Array {
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = i / 16000;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 3.1 * t + seed)) ** 0.6;
    const pitch = 130 + 25 * Math.sin(2 * Math.PI * 0.6 * t + seed);
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * pitch * h * t) / h;
    out[i] = 0.3 * syllable * v;
  }
  return out;
}
