package io.surplus.feed.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SimStatsTest {

  @Test
  void shouldReportInterruptionsNodeHoursWindowsAndRevocations() {
    SimResult r = TrainingFleetSim.run(SimConfig.referenceFleet().withDays(10), 7);
    String report = SimStats.report(r, "reference");
    for (String expected :
        new String[] {
          "seed 7, 10 days",
          "unexpected",
          "expected 77.6",
          "idle, not offered",
          "windows opened: " + String.format(java.util.Locale.ROOT, "%,d", r.windows().size()),
          "length p50 / p90 / p99",
          "planned",
          "emergency",
          "node failure",
          "feed events"
        }) {
      assertTrue(report.contains(expected), () -> "missing '" + expected + "' in\n" + report);
    }
  }

  @Test
  void shouldTakeNearestRankPercentiles() {
    long[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assertEquals(5, SimStats.percentile(sorted, 50));
    assertEquals(9, SimStats.percentile(sorted, 90));
    assertEquals(10, SimStats.percentile(sorted, 99));
    assertEquals(0, SimStats.percentile(new long[0], 50));
  }

  @Test
  void shouldRunFromTheCommandLine() {
    PrintStream out = System.out;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    int code;
    try {
      code =
          new CommandLine(new SimStats())
              .execute("--days", "2", "--fleet", "reference", "--seed", "3");
    } finally {
      System.setOut(out);
    }
    assertEquals(0, code);
    assertTrue(
        captured.toString(java.nio.charset.StandardCharsets.UTF_8).contains("seed 3, 2 days"));
  }
}
