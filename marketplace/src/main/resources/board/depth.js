// Depth of the chosen market from GET /v1/markets/{m}/book (aggregated, anonymous): cumulative
// nodes asked by bids at or above each limit price against cumulative free nodes of windows at or
// below each reserve, as step curves, with a ladder of the levels underneath.

import { api } from './api.js';
import { axisStyle, chart, MONO, palette, tooltipStyle } from './charts.js';
import * as dec from './decimal.js';
import { span } from './scale.js';
import { $, el, hms } from './util.js';

const LADDER_ROWS = 6;

export class Depth {
  constructor() {
    this.chart = chart('chart-depth');
    this.book = null;
    this.mine = new Set();
  }

  async load(model) {
    this.book = await api.book(model);
    this.render();
  }

  /** Limit prices of the ticket's own open bids in this market, marked in the ladder. */
  setMine(prices) {
    this.mine = new Set(prices.map((x) => dec.show(x)));
    if (this.book) this.ladder();
  }

  render() {
    const b = this.book;
    if (!b) return;
    const p = palette();
    $('#depth-asof').textContent = `as of ${hms(b.asOf)} · epoch ${b.epoch}`;
    // bids: demand at x = nodes of bids with limit >= x; step up at each level going left
    const bids = [...b.bids].reverse().map((l) => [dec.toNumber(l.limitPrice), l.cumulativeNodes]);
    // windows: supply at x = free nodes of windows with reserve <= x
    const asks = b.windows.map((l) => [dec.toNumber(l.reservePrice), l.cumulativeFreeNodes]);
    const last = b.lastClearingPrice ? dec.toNumber(b.lastClearingPrice) : null;
    const levels = [
      ...b.bids.map((l) => ({ price: dec.toNumber(l.limitPrice), nodes: l.nodes })),
      ...b.windows.map((l) => ({ price: dec.toNumber(l.reservePrice), nodes: l.freeNodes })),
    ];
    const { minX, maxX, below, above } = span(levels, last);
    // a level past an edge is drawn at that edge (the curves keep their totals) and named there
    const clamp = (d) => [Math.min(maxX, Math.max(minX, d[0])), d[1]];
    const bidCurve = bids.map(clamp);
    const askCurve = asks.map(clamp);
    if (bidCurve.length) bidCurve.unshift([minX, bidCurve[0][1]]);
    if (askCurve.length) askCurve.push([maxX, askCurve[askCurve.length - 1][1]]);
    const levelsText = (n) => `${n} level${n === 1 ? '' : 's'}`;
    $('#depth-outliers').textContent = [
      below.levels ? `off-chart ← ${levelsText(below.levels)} to ${below.far.toFixed(2)}` : '',
      above.levels ? `off-chart → ${levelsText(above.levels)} to ${above.far.toFixed(2)}` : '',
    ]
      .filter(Boolean)
      .join(' · ');
    const edges = [];
    const edgeText = (side, arrow) => ({ text: arrow(`${levelsText(side.levels)} to ${side.far.toFixed(2)}`), fill: p.faint, font: `11px ${MONO}` });
    if (below.levels) edges.push({ type: 'text', id: 'outliers-below', left: 16, top: 4, style: edgeText(below, (t) => `← ${t}`) });
    if (above.levels) edges.push({ type: 'text', id: 'outliers-above', right: 48, top: 4, style: { ...edgeText(above, (t) => `${t} →`), align: 'right' } });
    const ax = axisStyle(p);
    this.chart.setOption(
      {
        animation: false,
        backgroundColor: 'transparent',
        grid: { left: 14, right: 44, top: 20, bottom: 20 },
        tooltip: {
          ...tooltipStyle(p),
          trigger: 'axis',
          axisPointer: { type: 'cross', label: { backgroundColor: p.line2, fontFamily: MONO } },
          valueFormatter: (v) => `${v} nodes`,
        },
        xAxis: { type: 'value', min: minX, max: maxX, ...ax, splitLine: { show: false }, axisLabel: { ...ax.axisLabel, formatter: (v) => v.toFixed(2) } },
        yAxis: { type: 'value', position: 'right', minInterval: 1, ...ax },
        graphic:
          bids.length || asks.length
            ? edges
            : [{ type: 'text', left: 'center', top: 'middle', style: { text: 'empty book', fill: p.faint, font: `12px ${MONO}` } }],
        series: [
          {
            ...curve('bids (nodes)', 'start', bidCurve, p.up, 0.16),
            markLine:
              last === null
                ? undefined
                : {
                    symbol: 'none',
                    silent: true,
                    lineStyle: { color: p.accent, type: 'dashed' },
                    label: { color: p.accent, fontFamily: MONO, formatter: `last ${dec.show(b.lastClearingPrice)}` },
                    data: [{ xAxis: last }],
                  },
          },
          curve('windows (free nodes)', 'end', askCurve, p.down, 0.14),
        ],
      },
      { notMerge: true },
    );
    this.ladder();
  }

  ladder() {
    const b = this.book;
    const bidRows = b.bids.slice(0, LADDER_ROWS);
    const winRows = b.windows.slice(0, LADDER_ROWS);
    const maxBid = Math.max(1, ...bidRows.map((l) => l.cumulativeNodes));
    const maxWin = Math.max(1, ...winRows.map((l) => l.cumulativeFreeNodes));
    fill('#ladder-bids tbody', bidRows, 'no open bids', (l) => [
      { class: this.mine.has(dec.show(l.limitPrice)) ? 'mine' : null, dataset: { price: l.limitPrice } },
      el('td', { class: 'bar', style: `--w:${(100 * l.cumulativeNodes) / maxBid}%` }, el('span', {}, `${l.bids}`)),
      el('td', { class: 'num' }, dec.count(l.nodes)),
      el('td', { class: 'num up' }, dec.show(l.limitPrice)),
    ]);
    fill('#ladder-windows tbody', winRows, 'no windows', (l) => [
      { dataset: { price: l.reservePrice } },
      el('td', { class: 'num down' }, dec.show(l.reservePrice)),
      el('td', { class: 'num' }, dec.count(l.freeNodes)),
      el('td', { class: 'num bar', style: `--w:${(100 * l.cumulativeFreeNodes) / maxWin}%` }, el('span', { title: l.freeNodeHours }, dec.round(l.freeNodeHours, 1))),
    ]);
  }
}

/** A cumulative step curve of the depth chart. */
function curve(name, step, data, color, opacity) {
  return {
    name,
    type: 'line',
    step,
    symbol: 'none',
    data,
    lineStyle: { color, width: 1.5 },
    itemStyle: { color },
    areaStyle: { color, opacity },
  };
}

/** A ladder's rows: row(level) gives the row's attributes, then its cells. */
function fill(selector, levels, empty, row) {
  $(selector).replaceChildren(
    ...(levels.length
      ? levels.map((l) => {
          const [attrs, ...cells] = row(l);
          return el('tr', attrs, ...cells);
        })
      : [el('tr', { class: 'empty' }, el('td', { colspan: 3 }, empty))]),
  );
}
