// ECharts set-up: one theme per board theme (colours from the CSS variables), charts that follow
// their container's size, and a registry of the live instances (window.surplusBoard.charts).

let echarts = null;

export function useEcharts(lib) {
  echarts = lib;
}

/** ECharts itself, for its graphic helpers. */
export function lib() {
  return echarts;
}

export function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The chart colours of the current board theme. */
export function palette() {
  return {
    text: css('--text'),
    muted: css('--muted'),
    faint: css('--faint'),
    line: css('--line'),
    line2: css('--line-2'),
    panel: css('--panel'),
    panel2: css('--panel-2'),
    up: css('--up'),
    down: css('--down'),
    accent: css('--accent'),
    info: css('--info'),
    alloc: css('--alloc'),
    free: css('--free'),
    revoked: css('--revoked'),
  };
}

export const MONO = '"JetBrains Mono", "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace';

/** Axis and tooltip styles shared by every chart. */
export function axisStyle(p) {
  return {
    axisLine: { lineStyle: { color: p.line2 } },
    axisTick: { lineStyle: { color: p.line2 } },
    axisLabel: { color: p.muted, fontFamily: MONO, fontSize: 10 },
    splitLine: { lineStyle: { color: p.line, type: 'dashed' } },
  };
}

export function tooltipStyle(p) {
  return {
    backgroundColor: p.panel2,
    borderColor: p.line2,
    textStyle: { color: p.text, fontFamily: MONO, fontSize: 11 },
    extraCssText: 'box-shadow: 0 4px 14px rgba(0,0,0,.35); border-radius: 4px;',
  };
}

const live = new Map();

/** A chart on the element with that id, resized with its container. */
export function chart(id) {
  const dom = document.getElementById(id);
  const c = echarts.init(dom, null, { renderer: 'canvas' });
  new ResizeObserver(() => c.resize()).observe(dom);
  live.set(id, c);
  return c;
}

export function charts() {
  return Object.fromEntries(live);
}
