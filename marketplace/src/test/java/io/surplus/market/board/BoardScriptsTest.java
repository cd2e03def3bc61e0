package io.surplus.market.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The board's pure modules (the money arithmetic of {@code decimal.js}, the depth chart's range of
 * {@code scale.js}) under Node's built-in test runner: {@code node --test src/test/js/}, which this
 * class runs so that {@code ./surplus test} does (it installs Node when missing).
 */
class BoardScriptsTest {

  @Test
  void shouldPassTheBoardsNodeTests() throws IOException, InterruptedException {
    Path tests = Path.of("src", "test", "js");
    assertTrue(
        Files.isDirectory(tests), "run from the marketplace module: " + tests.toAbsolutePath());
    Process node =
        new ProcessBuilder("node", "--test", tests.toString()).redirectErrorStream(true).start();
    byte[] out = node.getInputStream().readAllBytes();
    assertTrue(node.waitFor(2, TimeUnit.MINUTES), "node --test did not finish");
    String report = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, node.exitValue(), report);
    // the runner found and ran the tests (an empty directory would pass with none)
    assertTrue(report.lines().anyMatch(l -> l.matches("# pass [1-9]\\d*")), report);
  }
}
