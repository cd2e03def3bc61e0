// Clearing-price candles with volume for the chosen market and interval (1m, 15m, 1h), from
// GET /v1/markets/{m}/candles (the last 120 buckets; only buckets with fills exist). OHLC are the
// clearing prices of the epochs that filled anything; volume is GPU-hours.

import { api } from './api.js';
import { axisStyle, chart, MONO, palette, tooltipStyle } from './charts.js';
import * as dec from './decimal.js';
import { $, dayHm, el, hm } from './util.js';

export class Candles {
  constructor() {
    this.chart = chart('chart-candles');
    this.model = null;
    this.interval = '1m';
    this.candles = [];
    for (const b of document.querySelectorAll('#intervals button')) {
      b.addEventListener('click', () => this.choose(b.dataset.interval));
    }
  }

  choose(interval) {
    this.interval = interval;
    for (const b of document.querySelectorAll('#intervals button')) {
      b.classList.toggle('on', b.dataset.interval === interval);
    }
    this.onChange?.();
  }

  async load(model) {
    const interval = this.interval;
    const r = await api.candles(model, interval);
    this.model = model;
    this.loadedInterval = interval;
    this.candles = r.candles;
    this.render();
  }

  label(iso) {
    return this.loadedInterval === '1h' ? dayHm(iso) : hm(iso);
  }

  render() {
    const p = palette();
    const cs = this.candles;
    this.kpis(cs);
    const x = cs.map((c) => this.label(c.start));
    const ohlc = cs.map((c) => [dec.toNumber(c.open), dec.toNumber(c.close), dec.toNumber(c.low), dec.toNumber(c.high)]);
    const vol = cs.map((c) => ({
      value: dec.toNumber(c.volumeGpuHours),
      itemStyle: { color: dec.compare(c.close, c.open) >= 0 ? p.up : p.down, opacity: 0.55 },
    }));
    const last = cs.length ? dec.toNumber(cs[cs.length - 1].close) : null;
    const ax = axisStyle(p);
    this.chart.setOption(
      {
        animation: false,
        backgroundColor: 'transparent',
        textStyle: { fontFamily: MONO },
        grid: [
          { left: 8, right: 56, top: 8, height: '64%', containLabel: false },
          { left: 8, right: 56, top: '76%', bottom: 22 },
        ],
        tooltip: {
          ...tooltipStyle(p),
          trigger: 'axis',
          axisPointer: { type: 'cross', lineStyle: { color: p.faint }, crossStyle: { color: p.faint }, label: { backgroundColor: p.line2, fontFamily: MONO } },
          formatter: (items) => {
            const c = cs[items[0].dataIndex];
            if (!c) return '';
            return [
              `<b>${c.start.replace('T', ' ').replace(':00Z', ' UTC')}</b>`,
              `O ${dec.show(c.open)}  H ${dec.show(c.high)}`,
              `L ${dec.show(c.low)}  C ${dec.show(c.close)}`,
              `vol ${dec.round(c.volumeGpuHours, 2)} GPU·h · ${c.trades} trades`,
              `notional $${dec.round(c.notional, 2)}`,
            ].join('<br>');
          },
        },
        axisPointer: { link: [{ xAxisIndex: 'all' }] },
        xAxis: [
          { type: 'category', data: x, gridIndex: 0, boundaryGap: true, ...ax, axisLabel: { show: false }, splitLine: { show: false } },
          { type: 'category', data: x, gridIndex: 1, boundaryGap: true, ...ax, splitLine: { show: false } },
        ],
        yAxis: [
          { scale: true, gridIndex: 0, position: 'right', ...ax, axisLabel: { ...ax.axisLabel, formatter: (v) => v.toFixed(2) } },
          { scale: true, gridIndex: 1, position: 'right', ...ax, splitNumber: 2, axisLabel: { ...ax.axisLabel, formatter: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v) } },
        ],
        dataZoom: [{ type: 'inside', xAxisIndex: [0, 1], start: cs.length > 80 ? 40 : 0, end: 100 }],
        graphic: cs.length
          ? []
          : [{ type: 'text', left: 'center', top: 'middle', style: { text: 'no fills in this range yet', fill: p.faint, font: `12px ${MONO}` } }],
        series: [
          {
            name: 'price',
            type: 'candlestick',
            data: ohlc,
            barMaxWidth: 14,
            itemStyle: { color: p.up, color0: p.down, borderColor: p.up, borderColor0: p.down },
            markLine:
              last === null
                ? undefined
                : {
                    symbol: 'none',
                    silent: true,
                    lineStyle: { color: p.accent, type: 'dashed', width: 1 },
                    label: { position: 'end', color: '#111', backgroundColor: p.accent, padding: [2, 4], fontFamily: MONO, formatter: () => dec.show(cs[cs.length - 1].close) },
                    data: [{ yAxis: last }],
                  },
          },
          { name: 'volume', type: 'bar', xAxisIndex: 1, yAxisIndex: 1, data: vol, barMaxWidth: 14 },
        ],
      },
      { notMerge: true },
    );
  }

  kpis(cs) {
    const box = $('#candle-kpis');
    box.replaceChildren();
    const k = (label, value, cls) => box.append(el('div', { class: 'kpi' }, el('span', {}, label), el('b', { class: cls }, value)));
    if (!cs.length) {
      k('last', '—');
      return;
    }
    let hi = cs[0].high;
    let lo = cs[0].low;
    for (const c of cs) {
      if (dec.compare(c.high, hi) > 0) hi = c.high;
      if (dec.compare(c.low, lo) < 0) lo = c.low;
    }
    const first = cs[0].open;
    const last = cs[cs.length - 1].close;
    const d = dec.compare(last, first);
    k('last', dec.show(last), d > 0 ? 'up' : d < 0 ? 'down' : '');
    k('range chg', `${dec.diff(last, first)} ${dec.percent(first, last)}`, d > 0 ? 'up' : d < 0 ? 'down' : '');
    k('high', dec.show(hi));
    k('low', dec.show(lo));
    k('volume GPU·h', dec.round(dec.sum(cs.map((c) => c.volumeGpuHours)), 1));
    k('trades', dec.count(cs.reduce((a, c) => a + c.trades, 0)));
    k('notional $', dec.round(dec.sum(cs.map((c) => c.notional)), 2));
  }
}
