import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { locale } from '../../i18n/index.ts';

// One uPlot line chart over the days of the range. The canvas is a picture for sighted readers:
// it is hidden from assistive technology, and the figure around it carries the same numbers as
// text and as a table. Colors come from the theme's CSS variables, and the chart is drawn again
// when the theme changes or its box is resized.

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** A CSS variable holding the line's color, e.g. --chart-1 */
  color: string;
}

const css = (name: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** Unix seconds of a day's UTC midnight: the x axis is laid out in days, labelled in UTC. */
export const dayStamp = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

export function Chart({
  days,
  series,
  format,
}: {
  days: string[];
  series: ChartSeries[];
  format: (value: number) => string;
}) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let plot: uPlot | null = null;
    const dateLabel = new Intl.DateTimeFormat(locale.value, {
      month: 'short',
      day: 'numeric',
      timeZone: 'UTC',
    });
    const draw = () => {
      plot?.destroy();
      const text = css('--muted');
      const grid = css('--border');
      const axis = {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
      };
      plot = new uPlot(
        {
          width: Math.max(el.clientWidth, 240),
          height: 200,
          legend: { show: false },
          cursor: { show: false },
          scales: {
            x: { time: true },
            y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] },
          },
          axes: [
            {
              ...axis,
              values: (_u, splits) => splits.map((s) => dateLabel.format(new Date(s * 1000))),
            },
            { ...axis, size: 56, values: (_u, splits) => splits.map((s) => format(s)) },
          ],
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: css(s.color),
              width: 2,
              points: { show: days.length <= 45, size: 5, fill: css(s.color) },
              spanGaps: false,
            })),
          ],
        },
        [days.map(dayStamp), ...series.map((s) => s.values)] as uPlot.AlignedData,
        el,
      );
    };
    draw();
    const resize = new ResizeObserver(() => {
      if (plot && Math.abs(plot.width - el.clientWidth) > 4)
        plot.setSize({ width: Math.max(el.clientWidth, 240), height: 200 });
    });
    resize.observe(el);
    const themed = new MutationObserver(draw);
    themed.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      resize.disconnect();
      themed.disconnect();
      plot?.destroy();
    };
  }, [days, series, format]);

  return <div class="chart-canvas" ref={box} aria-hidden="true" data-admin="chart-canvas" />;
}
