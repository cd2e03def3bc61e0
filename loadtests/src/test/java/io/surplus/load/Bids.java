package io.surplus.load;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Bid bodies as outside demand sends them: 1-8 nodes (a third accept a partial fill), one to four
 * hours somewhere in the next day, limit prices from $0.80 to $2.40 per GPU-hour (so some cross the
 * standing windows' reserves at $1.20-$1.95 and most rest), GTC bids expiring within ten minutes
 * and a tenth immediate-or-cancel.
 */
public final class Bids {

  private Bids() {}

  public static String one(List<String> markets) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String model = markets.get(r.nextInt(markets.size()));
    int nodes = 1 + r.nextInt(8);
    int minNodes = r.nextInt(3) == 0 ? 1 + r.nextInt(nodes) : nodes;
    int hours = 1 + r.nextInt(4);
    long now = Instant.now().getEpochSecond();
    long firstSlot = now / Setup.SLOT_SECONDS + 1 + r.nextInt(8);
    Instant start = Instant.ofEpochSecond(firstSlot * Setup.SLOT_SECONDS);
    Instant end = start.plusSeconds(hours * 3600L + (4 + r.nextInt(40)) * Setup.SLOT_SECONDS);
    int cents = 80 + r.nextInt(161);
    String price = (cents / 100) + "." + String.format("%02d", cents % 100);
    StringBuilder b =
        new StringBuilder(256)
            .append("{\"gpuModel\":\"")
            .append(model)
            .append("\",\"nodes\":")
            .append(nodes)
            .append(",\"minNodes\":")
            .append(minNodes)
            .append(",\"durationMinutes\":")
            .append(hours * 60)
            .append(",\"earliestStart\":\"")
            .append(start)
            .append("\",\"latestEnd\":\"")
            .append(end)
            .append("\",\"limitPrice\":\"")
            .append(price)
            .append('"');
    if (r.nextInt(10) == 0) {
      b.append(",\"timeInForce\":\"IOC\"");
    } else {
      b.append(",\"expiresAt\":\"")
          .append(Instant.ofEpochSecond(now + 60 + r.nextInt(540)))
          .append('"');
    }
    return b.append('}').toString();
  }

  public static String batch(List<String> markets, int size) {
    StringBuilder b = new StringBuilder(size * 260).append("{\"bids\":[");
    for (int i = 0; i < size; i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(one(markets));
    }
    return b.append("]}").toString();
  }
}
