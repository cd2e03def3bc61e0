// The board's calls to the marketplace API, same origin. Failures become ApiError with the problem
// document the service sent (type, detail, field), so panels can show what went wrong.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function call(method, path, { key, body, idempotencyKey } = {}) {
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await r.text();
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!r.ok) throw new ApiError(r.status, json);
  return json;
}

const m = (model) => `/v1/markets/${encodeURIComponent(model)}`;

export const api = {
  markets: () => call('GET', '/v1/markets'),
  book: (model) => call('GET', `${m(model)}/book`),
  windows: (model) => call('GET', `${m(model)}/windows`),
  trades: (model, limit = 40) => call('GET', `${m(model)}/trades?limit=${limit}`),
  candles: (model, interval, from, to) => {
    const q = new URLSearchParams({ interval });
    if (from) q.set('from', from.toISOString());
    if (to) q.set('to', to.toISOString());
    return call('GET', `${m(model)}/candles?${q}`);
  },
  epoch: (model, n) => call('GET', `${m(model)}/epochs/${n}`),
  account: (key) => call('GET', '/v1/account', { key }),
  openBids: (key) => call('GET', '/v1/bids?status=open&limit=100', { key }),
  bid: (key, id) => call('GET', `/v1/bids/${encodeURIComponent(id)}`, { key }),
  placeBid: (key, body, idempotencyKey) => call('POST', '/v1/bids', { key, body, idempotencyKey }),
  previewBid: (key, body) => call('POST', '/v1/bids/preview', { key, body }),
  cancelBid: (key, id) => call('DELETE', `/v1/bids/${encodeURIComponent(id)}`, { key }),
  leases: (key) => call('GET', '/v1/leases?limit=50', { key }),
  streamToken: (key) => call('POST', '/v1/stream/tokens', { key }),
  statement: (key, from, to, pool) => {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    if (pool) q.set('pool', pool);
    return call('GET', `/v1/provider/statement?${q}`, { key });
  },
};
