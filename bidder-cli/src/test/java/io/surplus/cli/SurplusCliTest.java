package io.surplus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The command line against a stub of the API (the JDK's HTTP server answering canned replies), for
 * what the live service cannot easily be made to do: answer 503 and then succeed. The live service
 * is the marketplace module's CliTest.
 */
class SurplusCliTest {

  record Canned(int status, String body, Map<String, String> headers) {}

  record Seen(String method, String path, String idempotencyKey, String auth, String body) {}

  HttpServer server;
  final Deque<Canned> replies = new ArrayDeque<>();
  final List<Seen> seen = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::answer);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private synchronized void answer(HttpExchange x) throws IOException {
    seen.add(
        new Seen(
            x.getRequestMethod(),
            x.getRequestURI().toString(),
            x.getRequestHeaders().getFirst("Idempotency-Key"),
            x.getRequestHeaders().getFirst("Authorization"),
            new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
    Canned c = replies.isEmpty() ? new Canned(500, "no reply left", Map.of()) : replies.poll();
    c.headers().forEach((k, v) -> x.getResponseHeaders().add(k, v));
    x.getResponseHeaders()
        .add("Content-Type", c.status() < 300 ? "application/json" : "application/problem+json");
    byte[] b = c.body().getBytes(StandardCharsets.UTF_8);
    x.sendResponseHeaders(c.status(), b.length);
    x.getResponseBody().write(b);
    x.close();
  }

  record Run(int code, String out, String err) {}

  Run run(String... args) {
    Map<String, String> env =
        Map.of(
            "SURPLUS_URL",
            "http://127.0.0.1:" + server.getAddress().getPort(),
            "SURPLUS_API_KEY",
            "sk_1_test",
            "HOME",
            "/nonexistent");
    SurplusCli.Result r = SurplusCli.execute(env, args);
    return new Run(r.code(), r.out(), r.err());
  }

  static final String BID =
      "{\"id\":\"bid_1_1\",\"status\":\"open\",\"gpuModel\":\"H100-SXM-80GB\",\"nodes\":4,"
          + "\"minNodes\":2,\"durationMinutes\":90,\"earliestStart\":\"2026-11-23T08:15:00Z\","
          + "\"latestEnd\":\"2026-11-23T12:00:00Z\",\"limitPrice\":\"2.40\","
          + "\"minNoticeSeconds\":600,\"regions\":[\"us-east\",\"eu-west\"],"
          + "\"timeInForce\":\"GTC\",\"requeue\":false,\"reserved\":\"115.20\","
          + "\"reason\":\"OUTBID\",\"createdAt\":\"2026-11-23T08:07:12.345Z\"}";

  static final String[] PLACE = {
    "bid",
    "place",
    "--market",
    "H100-SXM-80GB",
    "--nodes",
    "4",
    "--min-nodes",
    "2",
    "--duration",
    "1h30m",
    "--start",
    "2026-11-23T08:15:00Z",
    "--end",
    "2026-11-23T12:00:00Z",
    "--price",
    "2.40",
    "--region",
    "us-east,eu-west",
    "--min-notice",
    "10m"
  };

  @Test
  void shouldSendEveryBidFieldWithThePriceAsTheDecimalStringTyped() throws Exception {
    replies.add(new Canned(201, BID, Map.of("Idempotent-Replayed", "false")));
    Run r = run(PLACE);
    assertEquals(0, r.code(), r.err());
    Seen post = seen.get(0);
    assertEquals("POST", post.method());
    assertEquals("/v1/bids", post.path());
    assertEquals("Bearer sk_1_test", post.auth());
    JsonNode body = ApiClient.MAPPER.readTree(post.body());
    assertEquals(
        ApiClient.MAPPER.readTree(
            "{\"gpuModel\":\"H100-SXM-80GB\",\"nodes\":4,\"minNodes\":2,\"durationMinutes\":90,"
                + "\"earliestStart\":\"2026-11-23T08:15:00Z\","
                + "\"latestEnd\":\"2026-11-23T12:00:00Z\",\"limitPrice\":\"2.40\","
                + "\"regions\":[\"us-east\",\"eu-west\"],\"minNoticeSeconds\":600}"),
        body);
    assertTrue(post.idempotencyKey().startsWith("cli-"), post.idempotencyKey());
    assertTrue(r.out().startsWith("placed bid_1_1\n"), r.out());
    assertTrue(r.out().contains("nodes            4 (at least 2)\n"), r.out());
    assertTrue(r.out().contains("reason           OUTBID: capacity existed"), r.out());
    assertTrue(r.out().contains("idempotency key  " + post.idempotencyKey()), r.out());
  }

  @Test
  void shouldRetryAPlacementRefusedWith503UnderTheSameIdempotencyKey() {
    replies.add(
        new Canned(
            503,
            "{\"title\":\"The service cannot persist right now\",\"status\":503,"
                + "\"detail\":\"nothing is acknowledged\"}",
            Map.of("Retry-After", "1")));
    replies.add(new Canned(201, BID, Map.of("Idempotent-Replayed", "true")));
    Run r = run(PLACE);
    assertEquals(0, r.code(), r.err());
    assertEquals(2, seen.size());
    assertEquals(seen.get(0).idempotencyKey(), seen.get(1).idempotencyKey());
    assertEquals(seen.get(0).body(), seen.get(1).body());
    assertTrue(
        r.err()
            .startsWith(
                "surplus: the service is unavailable (HTTP 503); retrying in 1 s with the same"
                    + " Idempotency-Key (1 of 2)\n"),
        r.err());
    assertTrue(r.out().startsWith("already placed (same Idempotency-Key): bid_1_1"), r.out());
  }

  @Test
  void shouldGiveUpOn503AfterTheRetriesAndPrintTheKeyToRetryWith() {
    String problem =
        "{\"title\":\"The service cannot persist right now\",\"status\":503,"
            + "\"detail\":\"nothing is acknowledged\"}";
    for (int i = 0; i <= BidCommands.PLACE_RETRIES; i++) {
      replies.add(new Canned(503, problem, Map.of("Retry-After", "0")));
    }
    String[] args = Arrays.copyOf(PLACE, PLACE.length + 2);
    args[PLACE.length] = "--idempotency-key";
    args[PLACE.length + 1] = "my-key-1";
    Run r = run(args);
    assertEquals(SurplusCli.UNAVAILABLE, r.code());
    assertEquals(BidCommands.PLACE_RETRIES + 1, seen.size());
    assertTrue(seen.stream().allMatch(s -> s.idempotencyKey().equals("my-key-1")));
    assertTrue(
        r.err()
            .contains(
                "Run the same command again with --idempotency-key my-key-1 --start"
                    + " 2026-11-23T08:15:00Z --end 2026-11-23T12:00:00Z to learn whether the bid"
                    + " was placed"),
        r.err());
  }

  @Test
  void shouldExplainThatRelativeTimesChangeTheBodyWhenAKeyIsReused() {
    replies.add(
        new Canned(
            422,
            "{\"type\":\"https://surplus.dev/problems/idempotency-key-reused\","
                + "\"title\":\"Idempotency-Key was used for another request\",\"status\":422,"
                + "\"detail\":\"this Idempotency-Key was used with a different body; use a new"
                + " key\",\"field\":\"Idempotency-Key\"}",
            Map.of()));
    Run r =
        run(
            "bid",
            "place",
            "-m",
            "H100-SXM-80GB",
            "-n",
            "1",
            "-d",
            "1h",
            "--end",
            "+3h",
            "-p",
            "1",
            "--idempotency-key",
            "k-1");
    assertEquals(SurplusCli.API_ERROR, r.code());
    assertTrue(
        r.err()
            .startsWith(
                "surplus: Idempotency-Key was used for another request: this Idempotency-Key was"
                    + " used with a different body; use a new key (HTTP 422, field"
                    + " Idempotency-Key). Relative times (now, +2h) resolve anew on each run"),
        r.err());
  }

  @Test
  void shouldPrintTheApisJsonAsItCameUnderJson() {
    String markets = "{\"markets\":[{\"gpuModel\":\"H100-SXM-80GB\",\"epoch\":7}]}";
    replies.add(new Canned(200, markets, Map.of()));
    Run r = run("market", "list", "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(markets + "\n", r.out());
  }

  @Test
  void shouldPrintTheProblemOnStdoutUnderJsonAndTheSentenceOnStderr() {
    String problem =
        "{\"title\":\"Not found\",\"status\":404,\"detail\":\"no bid bid_1_9 in this account\"}";
    replies.add(new Canned(404, problem, Map.of()));
    Run r = run("--json", "bid", "show", "bid_1_9");
    assertEquals(SurplusCli.API_ERROR, r.code());
    assertEquals(problem + "\n", r.out());
    assertEquals("surplus: not found: no bid bid_1_9 in this account (HTTP 404)\n", r.err());
  }

  @Test
  void shouldExitTwoOnAUsageErrorWithoutCallingTheService() {
    Run r = run("bid", "place", "--market", "H100-SXM-80GB", "--nodes", "four");
    assertEquals(SurplusCli.USAGE, r.code());
    assertTrue(r.err().contains("'four'") && r.err().contains("surplus bid place --help"), r.err());
    assertTrue(seen.isEmpty());
  }
}
