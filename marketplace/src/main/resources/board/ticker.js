// The ticker strip: per market, the last clearing price (live from the stream's epochs, else the
// newest candle, else the book's last epoch), its change over 24 hours, GPU-hours cleared today,
// open demand, and the best bid against the lowest reserve. Clicking a market shows it everywhere.

import * as dec from './decimal.js';
import { el } from './util.js';

export class Ticker {
  constructor(root, onSelect) {
    this.root = root;
    this.onSelect = onSelect;
    this.cards = new Map();
    this.markets = new Map();
    this.day = new Map();
    this.live = new Map();
    this.selected = null;
  }

  /** From GET /v1/markets. */
  setMarkets(list) {
    for (const m of list) {
      this.markets.set(m.gpuModel, m);
      if (!this.cards.has(m.gpuModel)) this.cards.set(m.gpuModel, this.card(m.gpuModel));
      this.update(m.gpuModel);
    }
  }

  /**
   * From the 1h candles of the last 24 hours: the newest close, the first open (the reference of
   * the change) and the volume of the candles of today (UTC).
   */
  setDay(model, candles) {
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    const todays = candles.filter((c) => new Date(c.start) >= today);
    this.day.set(model, {
      last: candles.length ? candles[candles.length - 1].close : null,
      reference: candles.length ? candles[0].open : null,
      gpuHoursToday: dec.sum(todays.map((c) => c.volumeGpuHours)),
    });
    this.update(model);
  }

  /** A stream epoch: a new price flashes up or down. */
  onEpoch(msg) {
    const m = this.markets.get(msg.gpuModel);
    if (m) {
      m.epoch = msg.epoch;
    }
    if (msg.clearingPrice) {
      const before = this.last(msg.gpuModel);
      this.live.set(msg.gpuModel, msg.clearingPrice);
      const card = this.cards.get(msg.gpuModel);
      if (card && before) {
        const px = card.querySelector('.px');
        const c = dec.compare(msg.clearingPrice, before);
        if (c !== 0) {
          px.classList.remove('flash-up', 'flash-down');
          void px.offsetWidth; // restart the animation
          px.classList.add(c > 0 ? 'flash-up' : 'flash-down');
        }
      }
    }
    this.update(msg.gpuModel);
  }

  last(model) {
    return this.live.get(model) ?? this.day.get(model)?.last ?? this.markets.get(model)?.lastClearingPrice ?? null;
  }

  select(model) {
    this.selected = model;
    for (const [k, card] of this.cards) card.setAttribute('aria-pressed', String(k === model));
  }

  card(model) {
    const [chip, ...rest] = model.split('-');
    const card = el(
      'button',
      { class: 'tick', type: 'button', dataset: { market: model }, 'aria-pressed': 'false', onclick: () => this.onSelect(model) },
      el('span', { class: 'name' }, chip, ' ', el('small', { class: 'flat' }, rest.join('-'))),
      el('span', { class: 'px mono' }, '—'),
      el('span', { class: 'chg mono flat' }, '—'),
      el('span', { class: 'px2 mono' }, ''),
      el(
        'span',
        { class: 'meta' },
        el('span', {}, 'GPU·h today ', el('b', { class: 'gpuh mono' }, '0')),
        el('span', {}, 'demand ', el('b', { class: 'demand mono' }, '0'), ' nodes'),
        el('span', {}, '#', el('b', { class: 'ep mono' }, '0')),
      ),
    );
    this.root.append(card);
    return card;
  }

  update(model) {
    const card = this.cards.get(model);
    const m = this.markets.get(model);
    if (!card || !m) return;
    const last = this.last(model);
    const day = this.day.get(model);
    card.querySelector('.px').textContent = last ? dec.show(last) : '—';
    const chg = card.querySelector('.chg');
    if (last && day?.reference) {
      const c = dec.compare(last, day.reference);
      chg.textContent = `${dec.diff(last, day.reference)}  ${dec.percent(day.reference, last)}`;
      chg.className = `chg mono ${c > 0 ? 'up' : c < 0 ? 'down' : 'flat'}`;
      chg.title = `change since the first clearing of the last 24 h (${dec.show(day.reference)})`;
    } else {
      chg.textContent = '24h —';
      chg.className = 'chg mono flat';
    }
    card.querySelector('.px2').textContent = `${m.bestBid ? dec.show(m.bestBid) : '—'} / ${m.bestReserve ? dec.show(m.bestReserve) : '—'}`;
    card.querySelector('.px2').title = 'best bid / lowest reserve, $ per GPU-hour';
    card.querySelector('.gpuh').textContent = day ? dec.round(day.gpuHoursToday, 1) : '0';
    card.querySelector('.demand').textContent = dec.count(m.openBidNodes);
    card.querySelector('.ep').textContent = String(m.epoch);
  }
}
