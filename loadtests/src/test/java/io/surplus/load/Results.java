package io.surplus.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/** One simulation's own figures, as {@code <out>/<name>.properties}, for {@code LoadReport}. */
public final class Results {

  private Results() {}

  /** When the load phase started (epoch millis), 0 before. */
  private static volatile long loadFromMillis;

  /** The load phase starts now (see {@link MeasuredSimulation}). */
  static void loadStarts() {
    loadFromMillis = System.currentTimeMillis();
  }

  /**
   * Writes the figures, with the load phase's start and end ({@code loadFromMillis}, {@code
   * loadToMillis}: now) when it was timed.
   */
  public static void write(Path out, String name, Map<String, ?> figures) {
    Properties p = new Properties();
    new TreeMap<>(figures).forEach((k, v) -> p.setProperty(k, String.valueOf(v)));
    if (loadFromMillis > 0) {
      p.setProperty("loadFromMillis", Long.toString(loadFromMillis));
      p.setProperty("loadToMillis", Long.toString(System.currentTimeMillis()));
    }
    try {
      Files.createDirectories(out);
      try (Writer w = Files.newBufferedWriter(out.resolve(name + ".properties"))) {
        p.store(w, name);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.println(name + ": " + new TreeMap<>(figures));
  }
}
