// PNG plots with Chart.js drawn on @napi-rs/canvas (Skia, prebuilt binaries from npm: nothing to compile, unlike
// node-canvas, whose prebuilt download fails offline). A run: latency p50/p95 and mean FPS over time. A capacity
// search: p95 latency and p5 FPS against the session count, with the thresholds.
import { createCanvas } from '@napi-rs/canvas';
import { Chart, type ChartConfiguration, type Plugin, registerables } from 'chart.js';
import type { CapacityStep, CapacityThresholds } from './capacity-search.js';
import type { TimePoint } from './session-summary.js';

Chart.register(...registerables);

const WIDTH = 1200;
const HEIGHT = 600;

/** Chart.js leaves the background transparent; a PNG viewer would show it black or checkered. */
const whiteBackground: Plugin = {
  id: 'whiteBackground',
  beforeDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

async function render(config: ChartConfiguration): Promise<Buffer> {
  const canvas = createCanvas(WIDTH, HEIGHT);
  const chart = new Chart(canvas as unknown as HTMLCanvasElement, {
    ...config,
    options: { ...config.options, responsive: false, animation: false, devicePixelRatio: 1 },
    plugins: [whiteBackground, ...(config.plugins ?? [])],
  });
  try {
    return await canvas.encode('png');
  } finally {
    chart.destroy();
  }
}

const orNull = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);

export function plotRun(points: readonly TimePoint[], title: string): Promise<Buffer> {
  return render({
    type: 'line',
    data: {
      labels: points.map((p) => p.atS.toFixed(0)),
      datasets: [
        {
          label: 'latency p95 (ms)',
          data: points.map((p) => orNull(p.latencyP95Ms)),
          borderColor: '#d62728',
          yAxisID: 'ms',
          spanGaps: true,
        },
        {
          label: 'latency p50 (ms)',
          data: points.map((p) => orNull(p.latencyP50Ms)),
          borderColor: '#ff9896',
          yAxisID: 'ms',
          spanGaps: true,
        },
        {
          label: 'received FPS (mean per session)',
          data: points.map((p) => orNull(p.fps)),
          borderColor: '#1f77b4',
          yAxisID: 'fps',
        },
        {
          label: 'sessions receiving',
          data: points.map((p) => p.sessions),
          borderColor: '#7f7f7f',
          borderDash: [4, 4],
          yAxisID: 'fps',
        },
      ],
    },
    options: {
      plugins: { title: { display: true, text: title } },
      scales: {
        x: { title: { display: true, text: 'time since start (s)' } },
        ms: {
          type: 'linear',
          position: 'left',
          beginAtZero: true,
          title: { display: true, text: 'audio → avatar latency (ms)' },
        },
        fps: {
          type: 'linear',
          position: 'right',
          beginAtZero: true,
          title: { display: true, text: 'FPS / sessions' },
          grid: { drawOnChartArea: false },
        },
      },
    },
  });
}

export function plotCapacity(steps: readonly CapacityStep[], t: CapacityThresholds, title: string): Promise<Buffer> {
  const sorted = [...steps].sort((a, b) => a.sessions - b.sessions);
  const labels = sorted.map((s) => String(s.sessions));
  return render({
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'latency p95 (ms)',
          data: sorted.map((s) => orNull(s.p95LatencyMs)),
          borderColor: '#d62728',
          yAxisID: 'ms',
        },
        {
          label: `limit ${t.maxP95LatencyMs} ms`,
          data: sorted.map(() => t.maxP95LatencyMs),
          borderColor: '#d62728',
          borderDash: [6, 4],
          pointRadius: 0,
          yAxisID: 'ms',
        },
        {
          label: 'FPS p5 over sessions',
          data: sorted.map((s) => orNull(s.fpsP5)),
          borderColor: '#1f77b4',
          yAxisID: 'fps',
        },
        {
          label: `limit ${t.minFps} FPS`,
          data: sorted.map(() => t.minFps),
          borderColor: '#1f77b4',
          borderDash: [6, 4],
          pointRadius: 0,
          yAxisID: 'fps',
        },
      ],
    },
    options: {
      plugins: { title: { display: true, text: title } },
      scales: {
        x: { title: { display: true, text: 'concurrent sessions' } },
        ms: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'latency p95 (ms)' } },
        fps: {
          type: 'linear',
          position: 'right',
          beginAtZero: true,
          title: { display: true, text: 'FPS' },
          grid: { drawOnChartArea: false },
        },
      },
    },
  });
}
