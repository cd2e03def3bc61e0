// Time and sales: the newest leases of the chosen market, anonymous (GET /v1/markets/{m}/trades),
// refetched after each epoch that filled anything (the tape trails the clearing by the read
// side's lag). New rows flash; each price is coloured against the trade before it.

import { api } from './api.js';
import * as dec from './decimal.js';
import { $, el, hm, hms } from './util.js';

export class Tape {
  constructor() {
    this.model = null;
    this.seenEpoch = 0;
    this.onNewest = null;
  }

  async load(model) {
    const r = await api.trades(model, 40);
    const fresh = model === this.model;
    this.model = model;
    const trades = r.trades;
    const before = fresh ? this.seenEpoch : Infinity;
    const body = $('#tape tbody');
    if (!trades.length) {
      body.replaceChildren(el('tr', { class: 'empty' }, el('td', { colspan: 5 }, 'no trades today yet')));
      this.seenEpoch = 0;
      return;
    }
    body.replaceChildren(
      ...trades.map((t, i) => {
        const older = trades[i + 1];
        const c = older ? dec.compare(t.price, older.price) : 0;
        return el(
          'tr',
          { class: t.epoch > before ? 'new' : null, dataset: { epoch: t.epoch } },
          el('td', { title: t.clearedAt }, hms(t.clearedAt)),
          el('td', { class: `num ${c > 0 ? 'up' : c < 0 ? 'down' : ''}` }, dec.show(t.price)),
          el('td', { class: 'num' }, dec.count(t.nodes)),
          el('td', { class: 'num', title: t.gpuHours }, dec.round(t.gpuHours, 2)),
          el('td', { class: 'flat' }, `${hm(t.start)}→${hm(t.end)}`),
        );
      }),
    );
    const newest = trades[0].epoch;
    if (newest !== this.seenEpoch) {
      this.seenEpoch = newest;
      this.onNewest?.(model, newest);
    }
  }
}
