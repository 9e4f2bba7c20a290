import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Throughput } from '../api/types';

/** The states counted as failures on the chart (cancelled is an operator's choice, not one). */
export const FAILURE_STATES = ['failed', 'poisoned', 'invalid', 'expired', 'incomplete'] as const;

export function failuresOf(bucket: Throughput['buckets'][number]): number {
  return FAILURE_STATES.reduce((sum, state) => sum + bucket[state], 0);
}

const HEIGHT = 240;
/** uPlot draws its axes on the canvas at 12 px unless told: no text under 14 px. */
const FONT = '14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const AXIS = { font: FONT, labelFont: FONT, stroke: '#59636e' };

/**
 * Succeeded and failed tasks per bucket, drawn by uPlot (canvas): it is hidden from screen
 * readers, the text summary beside it (throughput-summary.tsx) says the same in words.
 */
export function ThroughputChart({ data }: { data: Throughput }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = () => Math.max(260, element.clientWidth);
    const chart = new uPlot(
      {
        width: width(),
        height: HEIGHT,
        scales: { x: { time: true } },
        axes: [
          { ...AXIS, size: 56 },
          { ...AXIS, label: 'tasks', size: 56 },
        ],
        series: [
          {},
          { label: 'succeeded', stroke: '#1a7f37', fill: 'rgba(26,127,55,0.08)', width: 2 },
          { label: 'failures', stroke: '#c9372c', width: 2, dash: [6, 4] },
        ],
      },
      [[], [], []],
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: width(), height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    const xs = data.buckets.map((bucket) => Date.parse(bucket.at) / 1000);
    plot.current?.setData([
      xs,
      data.buckets.map((bucket) => bucket.succeeded),
      data.buckets.map(failuresOf),
    ]);
  }, [data]);

  return <div class="chart" ref={box} aria-hidden="true" />;
}
