package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.fuzz.FuzzReport;
import io.surplus.fuzz.RouteFuzzer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The route fuzzer against the whole service (seeded: {@code -Dsurplus.fuzz.seed}, {@code
 * -Dsurplus.fuzz.requests}): no answer a 5xx but a 503 with Retry-After, none slower than 5 s,
 * every error a problem document, no invalid request accepted; afterwards every market still
 * clears, every account's credit adds up, and every bid, lease and window the service lists came
 * from a request it accepted.
 */
class RouteFuzzTest {

  static final long SEED = Long.getLong("surplus.fuzz.seed", 20_251_111L);
  static final long REQUESTS = Long.getLong("surplus.fuzz.requests", 20_000L);
  static final int CONCURRENCY = Integer.getInteger("surplus.fuzz.concurrency", 8);

  static TestService service;
  static String admin;

  @BeforeAll
  static void start() {
    service = TestService.start("fuzz" + System.nanoTime() % 1_000_000);
    admin = service.account(31, Role.ADMIN, 0);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  @Test
  void shouldHoldEveryRouteToItsContractUnderHostileInput() {
    RouteFuzzer.Config config =
        RouteFuzzer.Config.of(URI.create(service.base()), admin, REQUESTS, SEED)
            .withConcurrency(CONCURRENCY)
            .withExclusive(true)
            .withOut(Path.of("target", "fuzz"))
            // the test service settles a pending bid after 4 s (surplus.pending-grace)
            .withSettle(Duration.ofSeconds(30));
    FuzzReport report = RouteFuzzer.run(config);
    ByteArrayOutputStream table = new ByteArrayOutputStream();
    report.print(new PrintStream(table, true, StandardCharsets.UTF_8));
    String summary = table.toString(StandardCharsets.UTF_8);
    System.out.println(summary);
    assertTrue(report.sent() >= REQUESTS, "sent only " + report.sent() + "\n" + summary);
    assertEquals(
        "",
        report.violations().stream()
            .map(v -> v.kind() + " | " + v.route() + " | " + v.inputClass() + " | " + v.status())
            .collect(Collectors.joining("\n")),
        "violations (seed " + SEED + "):\n" + summary);
  }
}
