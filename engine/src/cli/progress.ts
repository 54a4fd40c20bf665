// One status line for a training run: stage, a bar, loss, PSNR, speed and ETA.
import type { TrainProgress } from '../train/trainer.js';

const duration = (s: number) =>
  !Number.isFinite(s)
    ? '--'
    : s >= 3600
      ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`
        : `${s.toFixed(0)}s`;

export function progressLine(p: TrainProgress, width = 24): string {
  const filled = Math.round((p.done / Math.max(1, p.total)) * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  return (
    `${p.stage.padEnd(11)} [${bar}] ${p.done}/${p.total}  loss ${p.loss.toFixed(4)}  PSNR ${p.psnr.toFixed(2)} dB  ` +
    `${p.gaussians.face}+${p.gaussians.mouth} G  ${p.iterationsPerSecond.toFixed(1)} it/s  ETA ${duration(p.etaSeconds)}   `
  );
}
