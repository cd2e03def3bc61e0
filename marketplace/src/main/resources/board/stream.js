// The live stream (/v1/stream, with ?key= for a bidder's own lease notices). Reconnects by itself
// with exponential back-off and jitter (0.5 s doubling to 10 s) whenever the socket closes, and
// closes a socket that has been silent past the heartbeat (the service sends one every 15 s), so a
// half-open connection is noticed too. Every open, first or again, calls onOpen so the board can
// refetch what it missed.

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const SILENCE_MS = 40000;

export class Stream {
  constructor({ onMessage, onOpen, onState }) {
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onState = onState;
    this.key = null;
    this.ws = null;
    this.attempts = 0;
    this.opens = 0;
    this.timer = null;
    this.watchdog = null;
    this.started = false;
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.key ? `?key=${encodeURIComponent(this.key)}` : '';
    return `${proto}//${location.host}/v1/stream${q}`;
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  /** Reconnects at once with another key (or none). */
  useKey(key) {
    if (key === this.key) return;
    this.key = key;
    if (!this.started) return;
    this.drop();
    this.attempts = 0;
    this.connect();
  }

  drop() {
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.onmessage = null;
      this.ws.onopen = null;
      this.ws.onerror = null;
      try {
        this.ws.close();
      } catch {
        /* already closed */
      }
      this.ws = null;
    }
  }

  connect() {
    this.onState(this.opens === 0 && this.attempts === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.opens++;
      this.onState('live');
      this.arm();
      this.onOpen(this.opens);
    };
    ws.onmessage = (e) => {
      this.arm();
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg.type !== 'heartbeat') this.onMessage(msg);
    };
    ws.onerror = () => {
      /* onclose follows and schedules the retry */
    };
    ws.onclose = () => {
      clearTimeout(this.watchdog);
      if (this.ws !== ws) return;
      this.ws = null;
      this.onState('reconnecting');
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempts);
      this.attempts++;
      this.timer = setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
    };
  }

  arm() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.ws && this.ws.close(), SILENCE_MS);
  }
}
