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

  public static void write(Path out, String name, Map<String, ?> figures) {
    Properties p = new Properties();
    new TreeMap<>(figures).forEach((k, v) -> p.setProperty(k, String.valueOf(v)));
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
