// One status line for a training run: stage, a bar, loss, PSNR, speed and ETA.
/** What a line shows; `detail` replaces the Gaussian counts (pre-training shows its video and contrast loss). */
export interface ProgressFields {
  stage: string;
  done: number;
  total: number;
  loss: number;
  psnr: number;
  iterationsPerSecond: number;
  etaSeconds: number;
  gaussians?: { face: number; mouth: number };
  detail?: string;
}

const duration = (s: number) =>
  !Number.isFinite(s)
    ? '--'
    : s >= 3600
      ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`
        : `${s.toFixed(0)}s`;

export function progressLine(p: ProgressFields, width = 24): string {
  const filled = Math.round((p.done / Math.max(1, p.total)) * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  return (
    `${p.stage.padEnd(11)} [${bar}] ${p.done}/${p.total}  loss ${p.loss.toFixed(4)}  PSNR ${p.psnr.toFixed(2)} dB  ` +
    `${p.detail ?? (p.gaussians ? `${p.gaussians.face}+${p.gaussians.mouth} G` : '')}  ` +
    `${p.iterationsPerSecond.toFixed(1)} it/s  ETA ${duration(p.etaSeconds)}   `
  );
}
