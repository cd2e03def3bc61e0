package io.surplus.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Every bid the service acknowledged with a 201 in this run, with the key that placed it, written
 * at the end for the no-loss audit ({@code NoLossAudit}) and counted for the bid rate.
 */
public final class Acked {

  private static final ConcurrentLinkedQueue<String> LINES = new ConcurrentLinkedQueue<>();
  private static final Throughput RATE = new Throughput();

  private Acked() {}

  public static void bid(String key, String bidId) {
    LINES.add(key + " " + bidId);
    RATE.add(1);
  }

  public static void bids(String key, List<String> bidIds) {
    for (String id : bidIds) {
      bid(key, id);
    }
  }

  /** Acknowledged bids per second, all kinds together. */
  public static Throughput rate() {
    return RATE;
  }

  /** Writes {@code <key> <bidId>} lines to {@code file}. */
  public static void write(Path file) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, LINES);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
