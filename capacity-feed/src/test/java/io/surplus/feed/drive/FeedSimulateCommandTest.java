package io.surplus.feed.drive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class FeedSimulateCommandTest {

  private static int run(StringWriter out, StringWriter err, String... args) {
    CommandLine cli = new CommandLine(new FeedSimulateCommand());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void shouldFeedTheMarketForTheGivenDurationAndPrintItsStatus() throws Exception {
    try (FakeMarketplace market = new FakeMarketplace("pk", "bk")) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      long t0 = System.nanoTime();
      int code =
          run(
              out,
              err,
              "--url",
              market.url().toString(),
              "--key",
              "pk",
              "--bidder-key",
              "bk",
              "--speed",
              "3600",
              "--days",
              "1",
              "--duration",
              "2");
      assertEquals(0, code, err.toString());
      assertTrue(System.nanoTime() - t0 < 6_000_000_000L, "stops after --duration");
      assertTrue(out.toString().contains("slots of 1 s"), out.toString());
      assertTrue(out.toString().contains("feed position"), out.toString());
      assertFalse(market.applied().isEmpty());
      assertFalse(market.bidCalls().isEmpty());
    }
  }

  @Test
  void shouldRefuseToRunWithoutAProviderKey() {
    assumeTrue(System.getenv("SURPLUS_PROVIDER_KEY") == null, "the environment sets a key");
    StringWriter err = new StringWriter();
    int code = run(new StringWriter(), err, "--url", "http://127.0.0.1:9");
    assertEquals(2, code);
    assertTrue(err.toString().contains("provider key is required"), err.toString());
  }
}
