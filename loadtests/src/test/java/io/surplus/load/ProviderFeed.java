package io.surplus.load;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One provider's side of the feed: its next sequence number and its open windows, from which it
 * writes valid NDJSON chunks (windows opened while it has fewer than eight, then extensions and
 * emergency revocations, of one node or the whole window). Used by one request at a time.
 */
public final class ProviderFeed {

  /** Open windows a provider keeps; past this it extends and revokes. */
  static final int MAX_OPEN = 8;

  private record Window(String id, long endSlot, int nodes) {}

  private final String key;
  private final int index;
  private final List<String> markets;
  private final List<Window> open = new ArrayList<>();
  private long seq;
  private long windows;
  private int pending;

  public ProviderFeed(String key, int index, List<String> markets, long lastApplied) {
    this.key = key;
    this.index = index;
    this.markets = markets;
    this.seq = lastApplied;
  }

  public String key() {
    return key;
  }

  /** The next {@code n} events; {@link #applied} or {@link #lost} must follow. */
  public String chunk(int n) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long nowSlot = Instant.now().getEpochSecond() / Setup.SLOT_SECONDS;
    StringBuilder b = new StringBuilder(n * 300);
    for (int i = 0; i < n; i++) {
      long s = ++seq;
      if (open.size() < MAX_OPEN || r.nextInt(4) == 0 && open.size() < 2 * MAX_OPEN) {
        String id = "p" + index + ".w" + (++windows);
        long startSlot = nowSlot + 1 + r.nextInt(8);
        long endSlot = startSlot + 8 + r.nextInt(40);
        int nodes = 16 + r.nextInt(113);
        int cents = 130 + r.nextInt(91);
        b.append("{\"type\":\"window.opened\",\"seq\":")
            .append(s)
            .append(",\"windowId\":\"")
            .append(id)
            .append("\",\"gpuModel\":\"")
            .append(markets.get(r.nextInt(markets.size())))
            .append("\",\"pool\":\"load-p")
            .append(index)
            .append('-')
            .append(r.nextInt(4))
            .append("\",\"region\":\"us-east\",\"nodes\":")
            .append(nodes)
            .append(",\"gpusPerNode\":8,\"start\":\"")
            .append(slot(startSlot))
            .append("\",\"end\":\"")
            .append(slot(endSlot))
            .append("\",\"reservePrice\":\"")
            .append(cents / 100)
            .append('.')
            .append(String.format("%02d", cents % 100))
            .append("\",\"noticeSeconds\":600}\n");
        open.add(new Window(id, endSlot, nodes));
        continue;
      }
      int k = r.nextInt(open.size());
      Window w = open.get(k);
      int pick = r.nextInt(3);
      if (pick == 0) {
        long endSlot = w.endSlot() + 4;
        b.append("{\"type\":\"window.extended\",\"seq\":")
            .append(s)
            .append(",\"windowId\":\"")
            .append(w.id())
            .append("\",\"end\":\"")
            .append(slot(endSlot))
            .append("\"}\n");
        open.set(k, new Window(w.id(), endSlot, w.nodes()));
      } else if (pick == 1 && w.nodes() > 1) {
        b.append("{\"type\":\"window.revoked\",\"seq\":")
            .append(s)
            .append(",\"windowId\":\"")
            .append(w.id())
            .append("\",\"kind\":\"emergency\",\"at\":\"")
            .append(Instant.now())
            .append("\",\"nodes\":1}\n");
        open.set(k, new Window(w.id(), w.endSlot(), w.nodes() - 1));
      } else {
        Instant at = Instant.now();
        b.append("{\"type\":\"window.revoked\",\"seq\":")
            .append(s)
            .append(",\"windowId\":\"")
            .append(w.id())
            .append("\",\"kind\":\"emergency\",\"at\":\"")
            .append(at)
            .append("\",\"end\":\"")
            .append(at)
            .append("\"}\n");
        open.remove(k);
      }
    }
    pending = n;
    return b.toString();
  }

  /** The service applied the last chunk. */
  public int applied() {
    int n = pending;
    pending = 0;
    return n;
  }

  private static Instant slot(long slot) {
    return Instant.ofEpochSecond(slot * Setup.SLOT_SECONDS);
  }
}
