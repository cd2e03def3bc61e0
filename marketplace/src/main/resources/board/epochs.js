// The epoch record of the chosen market: each epoch as the stream tells it (price, bids filled,
// bids left open by reason), and the public clearing record from GET /v1/markets/{m}/epochs/{n}
// (marginal bid, GPU-hours, notional, expired) for the newest epoch that filled anything, or for any
// epoch clicked in the list. The record trails the stream by the read side's lag, so it is asked
// for only once the tape shows that epoch's fills.

import { api, ApiError } from './api.js';
import { axisStyle, chart, MONO, palette, tooltipStyle } from './charts.js';
import * as dec from './decimal.js';
import { $, el, hms } from './util.js';

export const REASONS = ['BELOW_RESERVE', 'NO_CAPACITY_IN_WINDOW', 'FRAGMENTED', 'NOTICE_TOO_SHORT', 'OUTBID', 'REGION'];
const KEEP = 40;

const unfilled = (msg) => Object.values(msg.unfilledByReason || {}).reduce((a, b) => a + b, 0);

export class Epochs {
  constructor() {
    this.chart = chart('chart-reasons');
    this.model = null;
    this.byMarket = new Map();
    this.record = null;
    this.selectedEpoch = null;
    this.wanted = null;
  }

  select(model) {
    this.model = model;
    this.record = null;
    this.selectedEpoch = null;
    this.render();
  }

  /** The newest epoch the stream announced for {@code model}; 0 before any. */
  newest(model) {
    return this.byMarket.get(model)?.[0]?.epoch ?? 0;
  }

  /** Every stream epoch, of any market: kept per market, drawn when it is the chosen one. */
  onEpoch(msg) {
    const list = this.byMarket.get(msg.gpuModel) || [];
    if (list.length && list[0].epoch >= msg.epoch) return;
    list.unshift(msg);
    if (list.length > KEEP) list.pop();
    this.byMarket.set(msg.gpuModel, list);
    if (msg.gpuModel === this.model) this.render();
  }

  /**
   * Shows epoch n's clearing record; while the read side has not written it yet (404) or does not
   * answer (5xx), asks again every second, up to 20 times, unless another epoch's record has been
   * asked for since.
   */
  async loadRecord(model, n) {
    this.wanted = n;
    await this.fetchRecord(model, n, 20);
  }

  /** Whether epoch n of model is still the record to show. */
  current(model, n) {
    return model === this.model && this.wanted === n;
  }

  async fetchRecord(model, n, tries) {
    try {
      const r = await api.epoch(model, n);
      if (this.current(model, n)) {
        this.record = r;
        this.renderRecord();
      }
    } catch (e) {
      if (!(e instanceof ApiError) || (e.status !== 404 && e.status < 500)) throw e;
      if (!this.current(model, n)) return;
      $('#epoch-record').textContent =
        e.status === 404 ? `epoch ${n}: not in the read side yet` : `epoch ${n}: the read side did not answer`;
      if (tries > 1) {
        setTimeout(() => {
          if (this.current(model, n)) {
            this.fetchRecord(model, n, tries - 1).catch((err) => console.warn(err.message));
          }
        }, 1000);
      }
    }
  }

  render() {
    const list = this.byMarket.get(this.model) || [];
    const msg = list[0];
    const p = palette();
    $('#epoch-no').textContent = msg ? `#${msg.epoch}` : '—';
    $('#epoch-at').textContent = msg ? `${hms(msg.clearedAt)} UTC` : 'waiting for the next epoch';
    const box = $('#epoch-kpis');
    const k = (label, value, cls) => el('div', { class: 'kpi' }, el('span', {}, label), el('b', { class: cls }, value));
    box.replaceChildren(
      k('clearing price', msg?.clearingPrice ? dec.show(msg.clearingPrice) : '—', msg?.clearingPrice ? 'up' : ''),
      k('filled', msg ? `${msg.leases} bids · ${msg.filledNodes} n` : '—'),
      k('unfilled', msg ? dec.count(unfilled(msg)) : '—', msg && unfilled(msg) ? 'down' : ''),
      k('open bids', msg ? dec.count(msg.openBids) : '—'),
    );
    const counts = REASONS.map((r) => msg?.unfilledByReason?.[r] || 0);
    const ax = axisStyle(p);
    this.chart.setOption(
      {
        animation: false,
        backgroundColor: 'transparent',
        grid: { left: 150, right: 36, top: 4, bottom: 4 },
        tooltip: { ...tooltipStyle(p), trigger: 'axis', axisPointer: { type: 'shadow' } },
        xAxis: { type: 'value', minInterval: 1, show: false },
        yAxis: {
          type: 'category',
          data: REASONS,
          inverse: true,
          ...ax,
          axisTick: { show: false },
          axisLabel: { ...ax.axisLabel, formatter: (v) => v.toLowerCase().replaceAll('_', ' ') },
        },
        series: [
          {
            name: 'open bids',
            type: 'bar',
            data: counts,
            barMaxWidth: 12,
            itemStyle: { color: p.accent, borderRadius: [0, 2, 2, 0] },
            label: { show: true, position: 'right', color: p.muted, fontFamily: MONO, fontSize: 10 },
            showBackground: true,
            backgroundStyle: { color: p.panel2 },
          },
        ],
      },
      { notMerge: true },
    );
    const body = $('#epoch-tape tbody');
    body.replaceChildren(
      ...(list.length
        ? list.map((m) =>
            el(
              'tr',
              {
                class: `clickable ${m.epoch === this.selectedEpoch ? 'sel' : ''}`,
                dataset: { epoch: m.epoch },
                title: 'show the clearing record',
                onclick: () => {
                  this.selectedEpoch = m.epoch;
                  this.loadRecord(this.model, m.epoch).catch((e) => console.warn(e.message));
                  this.render();
                },
              },
              el('td', {}, `#${m.epoch}`),
              el('td', {}, hms(m.clearedAt)),
              el('td', { class: 'num' }, m.clearingPrice ? dec.show(m.clearingPrice) : '—'),
              el('td', { class: 'num' }, `${m.leases}/${m.filledNodes}n`),
              el('td', { class: 'num' }, dec.count(unfilled(m))),
            ),
          )
        : [el('tr', { class: 'empty' }, el('td', { colspan: 5 }, 'no epochs seen yet'))]),
    );
    this.renderRecord();
  }

  renderRecord() {
    const r = this.record;
    const box = $('#epoch-record');
    if (!r) {
      box.textContent = 'clearing record: shown once an epoch fills';
      return;
    }
    const b = (x) => el('b', {}, x);
    box.replaceChildren(
      `record #${r.epoch} · ${hms(r.clearedAt)} · price `,
      b(r.clearingPrice ? dec.show(r.clearingPrice) : '—'),
      ' · marginal bid ',
      b(r.marginalLimitPrice ? dec.show(r.marginalLimitPrice) : '—'),
      ' · ',
      b(dec.round(r.gpuHours, 2)),
      ' GPU·h · $',
      b(dec.round(r.notional, 2)),
      ` · expired ${r.expired} · IOC unfilled ${r.unfilledIoc}`,
    );
  }
}
