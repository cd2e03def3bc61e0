package io.surplus.engine.whatif;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SimulateTest {

  static String run(String... args) {
    StringWriter text = new StringWriter();
    int rc = new CommandLine(new Simulate(new PrintWriter(text))).execute(args);
    assertEquals(0, rc);
    return text.toString();
  }

  @Test
  void shouldPrintOneLinePerEpochAndRepeatForTheSameSeed() {
    String first = run("--seed", "7", "--epochs", "5");
    String[] lines = first.strip().split("\n");
    assertEquals(6, lines.length); // header + 5 epochs
    assertTrue(lines[1].startsWith("1 "), lines[1]);
    assertTrue(first.contains("OUTBID") || first.contains("NO_CAPACITY_IN_WINDOW"), first);
    assertEquals(first, run("--seed", "7", "--epochs", "5"));
    assertNotEquals(first, run("--seed", "8", "--epochs", "5"));
  }

  @Test
  void shouldPrintGreedyAndGreedyPlusRepairSideBySide() {
    String out = run("--seed", "1", "--epochs", "4", "--repair-compare");
    String[] lines = out.strip().split("\n");
    assertEquals(6, lines.length, out); // header + 4 epochs + totals
    assertTrue(lines[5].startsWith("total: greedy"), lines[5]);
    assertEquals(out, run("--seed", "1", "--epochs", "4", "--repair-compare"));
    // the first epoch clears the same book both ways: the pass only adds fills
    String[] greedy = lines[1].split("\\|")[1].trim().split("\\s+");
    String[] repaired = lines[1].split("\\|")[2].trim().split("\\s+");
    assertTrue(Integer.parseInt(repaired[2]) >= Integer.parseInt(greedy[2]), lines[1]);
    assertTrue(new BigDecimal(repaired[4]).compareTo(new BigDecimal(greedy[4])) >= 0, lines[1]);
    assertEquals(
        Integer.parseInt(repaired[1]) - Integer.parseInt(greedy[1]),
        Integer.parseInt(repaired[5]),
        "the added fills are the extra leases: " + lines[1]);
  }

  @Test
  void shouldCompareWithTheRepackPhaseAndRefuseItWithoutThePass() {
    String out = run("--seed", "1", "--epochs", "3", "--repair-compare", "--repack");
    String[] lines = out.strip().split("\n");
    assertEquals(5, lines.length, out);
    assertTrue(lines[4].contains("greedy + repair + re-pack"), lines[4]);
    String[] greedy = lines[1].split("\\|")[1].trim().split("\\s+");
    String[] repacked = lines[1].split("\\|")[2].trim().split("\\s+");
    assertTrue(new BigDecimal(repacked[4]).compareTo(new BigDecimal(greedy[4])) >= 0, lines[1]);
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Simulate(new PrintWriter(new StringWriter())));
    cli.setErr(new PrintWriter(err));
    assertEquals(2, cli.execute("--repack"));
    assertTrue(err.toString().contains("--repack needs"), err.toString());
  }

  @Test
  void shouldRefuseANonPositiveEpochCount() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Simulate(new PrintWriter(new StringWriter())));
    cli.setErr(new PrintWriter(err));
    assertEquals(2, cli.execute("--epochs", "0"));
    assertTrue(err.toString().contains("--epochs"), err.toString());
  }
}
