// The capacity timeline of the chosen market from GET /v1/markets/{m}/windows: one lane per window
// (labelled by its pool's pseudonym and region) over the horizon, each run of slots split into
// leased, free and revoked nodes; under it the market's nodes leased, free and revoked over time.
// Revocations from the stream are marked where they take effect.

import { api } from './api.js';
import { axisStyle, chart, lib, MONO, palette, tooltipStyle } from './charts.js';
import * as dec from './decimal.js';
import { $, dayHm, el, hm, hms, span } from './util.js';

const VISIBLE_LANES = 14;
const KEEP_REVOCATIONS = 30;

export class Timeline {
  constructor() {
    this.chart = chart('chart-timeline');
    this.data = null;
    this.revocations = [];
  }

  async load(model) {
    this.data = await api.windows(model);
    this.render();
  }

  /** A stream revocation: kept (the last few per market) and drawn at its instant. */
  onRevocation(msg) {
    this.revocations.push(msg);
    if (this.revocations.length > KEEP_REVOCATIONS) this.revocations.shift();
    if (this.data && msg.gpuModel === this.data.gpuModel) this.render();
  }

  render() {
    const t = this.data;
    if (!t) return;
    const p = palette();
    const ax = axisStyle(p);
    const windows = [...t.windows].sort((a, b) => a.pool.localeCompare(b.pool) || a.start.localeCompare(b.start));
    const lanes = windows.map((w) => `${w.pool}\n${w.region}`);
    const items = [];
    windows.forEach((w, lane) => {
      for (const r of w.runs) {
        items.push({
          value: [Date.parse(r.start), Date.parse(r.end), lane, r.offered, r.allocated, r.free, r.revoked, w.nodes],
          window: w,
          run: r,
        });
      }
    });
    const now = Date.parse(t.asOf);
    const ends = windows.map((w) => Date.parse(w.end));
    const horizon = Date.parse(t.horizonEnd);
    const last = ends.length ? Math.max(...ends) : now + 6 * 3600e3;
    const spanMs = Math.max(last - now, 3600e3);
    const minX = now - spanMs * 0.02;
    const maxX = Math.min(horizon, last + spanMs * 0.03);
    const marks = this.revocations
      .filter((r) => r.gpuModel === t.gpuModel)
      .map((r) => ({
        xAxis: Date.parse(r.at),
        lineStyle: { color: p.revoked, type: 'solid', width: 1.5 },
        label: { position: 'insideEndTop', formatter: `${r.kind === 'emergency' ? '⚠ ' : ''}revoked ${r.nodesCut} nodes`, color: p.revoked, fontFamily: MONO, fontSize: 10 },
      }));
    const cap = aggregate(items, now, maxX);
    this.kpis(t);
    const graphic = lib().graphic;
    this.chart.setOption(
      {
        useUTC: true,
        animation: false,
        backgroundColor: 'transparent',
        grid: [
          { left: 92, right: 18, top: 14, bottom: '30%' },
          { left: 92, right: 18, top: '76%', bottom: 22 },
        ],
        tooltip: { ...tooltipStyle(p), trigger: 'item' },
        axisPointer: { link: [{ xAxisIndex: 'all' }] },
        xAxis: [
          { type: 'time', gridIndex: 0, min: minX, max: maxX, ...ax, axisLabel: { show: false }, splitLine: { ...ax.splitLine, show: true } },
          { type: 'time', gridIndex: 1, min: minX, max: maxX, ...ax, axisLabel: { ...ax.axisLabel, formatter: (v) => (maxX - minX > 86400e3 ? dayHm(new Date(v).toISOString()) : hm(new Date(v).toISOString())) } },
        ],
        yAxis: [
          {
            type: 'category',
            gridIndex: 0,
            data: lanes,
            inverse: true,
            ...ax,
            splitLine: { show: false },
            axisLabel: {
              ...ax.axisLabel,
              lineHeight: 12,
              formatter: (v, i) => (i > 0 && lanes[i - 1] === v ? '' : `{pool|${v.split('\n')[0]}}\n{region|${v.split('\n')[1]}}`),
              rich: { pool: { color: p.text, fontFamily: MONO, fontSize: 10 }, region: { color: p.faint, fontFamily: MONO, fontSize: 9 } },
            },
          },
          { type: 'value', gridIndex: 1, minInterval: 1, splitNumber: 2, ...ax, name: 'nodes', nameTextStyle: { color: p.faint, fontSize: 10 } },
        ],
        dataZoom: [
          { type: 'inside', xAxisIndex: [0, 1], filterMode: 'weakFilter' },
          ...(lanes.length > VISIBLE_LANES
            ? [{ type: 'slider', yAxisIndex: 0, right: 2, width: 10, start: 0, end: (100 * VISIBLE_LANES) / lanes.length, showDetail: false, borderColor: p.line, fillerColor: p.line2, handleSize: 0, brushSelect: false }]
            : []),
        ],
        graphic: lanes.length
          ? []
          : [{ type: 'text', left: 'center', top: '35%', style: { text: 'no windows over the horizon', fill: p.faint, font: `12px ${MONO}` } }],
        series: [
          {
            name: 'windows',
            type: 'custom',
            xAxisIndex: 0,
            yAxisIndex: 0,
            encode: { x: [0, 1], y: 2 },
            data: items,
            renderItem: (params, a) => {
              const lane = a.value(2);
              const from = a.coord([a.value(0), lane]);
              const to = a.coord([a.value(1), lane]);
              const band = a.size([0, 1])[1] * 0.74;
              const nodes = a.value(7);
              const box = { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height };
              const children = [];
              let bottom = from[1] + band / 2;
              for (const [i, color, opacity] of [[4, p.alloc, 0.95], [5, p.free, 0.75], [6, p.revoked, 0.5]]) {
                const h = (band * a.value(i)) / nodes;
                if (h <= 0) continue;
                const shape = graphic.clipRectByRect({ x: from[0], y: bottom - h, width: Math.max(to[0] - from[0] - 1, 1), height: h }, box);
                bottom -= h;
                if (shape) children.push({ type: 'rect', shape, style: { fill: color, opacity } });
              }
              return { type: 'group', children };
            },
            tooltip: {
              formatter: (it) => {
                const w = it.data.window;
                const r = it.data.run;
                return [
                  `<b>${w.pool}</b> · ${w.region}`,
                  `window ${dayHm(w.start)} → ${dayHm(w.end)} (${span(Date.parse(w.end) - Date.parse(w.start))})`,
                  `${w.nodes} nodes × ${w.gpusPerNode} GPUs · reserve $${dec.show(w.reservePrice)} · notice ${span(w.noticeSeconds * 1000)}`,
                  `<br>${hms(r.start)} → ${hms(r.end)}`,
                  `leased ${r.allocated} · free ${r.free}${r.revoked ? ` · revoked ${r.revoked}` : ''}`,
                ].join('<br>');
              },
            },
            markLine: {
              symbol: 'none',
              silent: true,
              animation: false,
              data: [
                { xAxis: now, lineStyle: { color: p.info, type: 'dashed', width: 1 }, label: { position: 'start', formatter: 'now', color: p.info, fontFamily: MONO, fontSize: 10 } },
                ...marks,
              ],
            },
          },
          areaSeries('leased', cap.alloc, p.alloc, 0.55),
          areaSeries('free', cap.free, p.free, 0.45),
          areaSeries('revoked', cap.revoked, p.revoked, 0.4),
        ],
      },
      { notMerge: true },
    );
  }

  kpis(t) {
    const box = $('#timeline-kpis');
    const k = (label, value, cls) => el('div', { class: 'kpi' }, el('span', {}, label), el('b', { class: cls }, value));
    const seen = this.revocations.filter((r) => r.gpuModel === t.gpuModel).length;
    box.replaceChildren(
      k('windows', dec.count(t.totals.windows)),
      k('nodes now', dec.count(t.totals.offeredNodesNow)),
      k('leased now', dec.count(t.totals.allocatedNodesNow)),
      k('free now', dec.count(t.totals.freeNodesNow)),
      k('leased node·h', dec.round(t.totals.allocatedNodeHours, 1)),
      k('free node·h', dec.round(t.totals.freeNodeHours, 1)),
      k('revocations', dec.count(seen), seen ? 'down' : ''),
    );
  }
}

function areaSeries(name, data, color, opacity) {
  return {
    name,
    type: 'line',
    xAxisIndex: 1,
    yAxisIndex: 1,
    stack: 'capacity',
    step: 'end',
    symbol: 'none',
    data,
    lineStyle: { width: 0 },
    itemStyle: { color },
    areaStyle: { color, opacity },
    tooltip: { show: false },
  };
}

/** Nodes leased, free and revoked summed over all windows, as step points in time. */
function aggregate(items, now, maxX) {
  const deltas = new Map();
  const add = (t, a, f, r) => {
    const d = deltas.get(t) || [0, 0, 0];
    d[0] += a;
    d[1] += f;
    d[2] += r;
    deltas.set(t, d);
  };
  for (const it of items) {
    const [from, to, , , alloc, free, revoked] = it.value;
    add(from, alloc, free, revoked);
    add(to, -alloc, -free, -revoked);
  }
  const times = [...deltas.keys()].sort((x, y) => x - y);
  const out = { alloc: [], free: [], revoked: [] };
  let a = 0;
  let f = 0;
  let r = 0;
  if (!times.length || times[0] > now) {
    out.alloc.push([now, 0]);
    out.free.push([now, 0]);
    out.revoked.push([now, 0]);
  }
  for (const t of times) {
    const d = deltas.get(t);
    a += d[0];
    f += d[1];
    r += d[2];
    out.alloc.push([t, a]);
    out.free.push([t, f]);
    out.revoked.push([t, r]);
  }
  out.alloc.push([maxX, a]);
  out.free.push([maxX, f]);
  out.revoked.push([maxX, r]);
  return out;
}
