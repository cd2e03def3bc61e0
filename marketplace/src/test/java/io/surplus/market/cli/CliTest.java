package io.surplus.market.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.cli.SurplusCli;
import io.surplus.market.http.Bodies;
import io.surplus.market.http.Json;
import io.surplus.market.http.Role;
import io.surplus.market.http.TestService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bidder CLI (module bidder-cli) run in-process against the live service on the real Cassandra
 * node: each call builds the command line over an environment of its own, as a shell would, and
 * captures what it prints. The markets are kept apart: H100 for the bid that fills, A100 for the
 * market data, H200 for the stream.
 */
class CliTest {

  static final String H100 = "H100-SXM-80GB";
  static final String H200 = "H200-SXM-141GB";
  static final String A100 = "A100-SXM-80GB";

  static TestService service;
  static String bidder;
  static String provider;
  @TempDir static Path home;

  @BeforeAll
  static void start() {
    service = TestService.start("cli" + System.nanoTime() % 1_000_000);
    bidder = service.account(81, Role.BIDDER, 100_000_000_000L);
    provider = service.account(82, Role.PROVIDER, 0);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  /** What one command printed and its exit code. */
  record Run(int code, String out, String err) {
    JsonNode json() {
      try {
        return Json.MAPPER.readTree(out);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + out, e);
      }
    }

    /** The value of {@code name} in a name/value listing ({@code bid show}, {@code leases ID}). */
    String field(String name) {
      return out.lines()
          .filter(l -> l.startsWith(name + "  "))
          .map(l -> l.substring(name.length()).strip())
          .findFirst()
          .orElseThrow(() -> new AssertionError("no " + name + " in:\n" + out));
    }

    /** The id the first line names: "placed bid_81_1", "cancelled bid_81_2". */
    String firstLineId() {
      String first = out.lines().findFirst().orElseThrow();
      return first.substring(first.lastIndexOf(' ') + 1);
    }

    @Override
    public String toString() {
      return "exit " + code + "\nstdout:\n" + out + "stderr:\n" + err;
    }
  }

  static Run cli(Map<String, String> env, String... args) {
    SurplusCli.Result r = SurplusCli.execute(env, args);
    return new Run(r.code(), r.out(), r.err());
  }

  static Map<String, String> env(String key) {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", home.toString());
    env.put("SURPLUS_URL", service.base());
    if (key != null) {
      env.put("SURPLUS_API_KEY", key);
    }
    return env;
  }

  /** The demo bidder's command line. */
  static Run bidder(String... args) {
    return cli(env(bidder), args);
  }

  /** Runs the command again (sleeping between) until its result satisfies {@code done}. */
  static Run await(Supplier<Run> command, Predicate<Run> done) {
    long deadline = System.nanoTime() + TestService.WAIT.toNanos();
    Run r = command.get();
    while (!done.test(r)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up waiting; last run: " + r);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      r = command.get();
    }
    return r;
  }

  static String[] place(
      String model,
      int nodes,
      String duration,
      int fromSlot,
      int toSlot,
      String price,
      String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "bid",
                "place",
                "--market",
                model,
                "--nodes",
                Integer.toString(nodes),
                "--duration",
                duration,
                "--start",
                Bodies.slot(fromSlot).toString(),
                "--end",
                Bodies.slot(toSlot).toString(),
                "--price",
                price));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @Test
  void shouldPlaceABidSeeItOpenWithItsReasonThenFilledInALaterEpochWithItsLease() {
    // a dry run first: the quote says it would wait for capacity, and places nothing
    String listBefore = bidder("bid", "list").out();
    Run quote = bidder(place(H100, 4, "1h", 0, 8, "2.25", "--dry-run"));
    assertEquals(SurplusCli.OK, quote.code(), quote.toString());
    assertTrue(quote.out().startsWith("would stay open (nothing was placed)"), quote.out());
    assertEquals(
        "NO_CAPACITY_IN_WINDOW: no window has free nodes in the bid's time range",
        quote.field("reason"));
    assertEquals("no limit up to the cap", quote.field("fills now at"));
    assertEquals("72.00 USD when placed", quote.field("reserve"));
    assertEquals(listBefore, bidder("bid", "list").out(), "the dry run placed nothing");

    Run placed = bidder(place(H100, 4, "1h", 0, 8, "2.25"));
    assertEquals(SurplusCli.OK, placed.code(), placed.toString());
    assertTrue(placed.out().startsWith("placed bid_81_"), placed.toString());
    String id = placed.firstLineId();
    // 4 nodes x 8 GPUs x 1 h x $2.25
    assertEquals("72.00 USD", placed.field("reserved"));
    assertEquals("4 (all or nothing)", placed.field("nodes"));
    assertEquals("2.25 USD per GPU-hour", placed.field("limit price"));
    assertTrue(placed.field("idempotency key").startsWith("cli-"), placed.out());

    Run list = bidder("bid", "list");
    assertEquals(SurplusCli.OK, list.code(), list.toString());
    assertTrue(list.out().startsWith("ID "), list.out());
    String row = list.out().lines().filter(l -> l.startsWith(id + " ")).findFirst().orElseThrow();
    assertTrue(row.matches(".*\\bopen\\s+" + H100 + "\\s+4\\s+1h\\s.*\\s2\\.25\\s+72\\.00.*"), row);

    // no window yet: the market says why it waits
    Run open =
        await(() -> bidder("bid", "show", id), r -> r.out().contains("NO_CAPACITY_IN_WINDOW"));
    assertEquals("open", open.field("status"));
    assertEquals(
        "NO_CAPACITY_IN_WINDOW: no window has free nodes in the bid's time range",
        open.field("reason"));

    assertEquals(
        201,
        service
            .post("/v1/windows", provider, "w-h100", Bodies.window(H100, 16, 0, 16, "1.50"))
            .status());
    Run filled = await(() -> bidder("bid", "show", id), r -> r.field("status").equals("filled"));
    assertEquals("filled", filled.field("status"));
    // 12 of the window's 16 nodes are left: the same bid again would fill, at its own limit
    Run fills = bidder(place(H100, 4, "1h", 0, 8, "2.25", "--dry-run"));
    assertTrue(fills.out().startsWith("would fill in the next epoch"), fills.out());
    assertEquals("4", fills.field("nodes"));
    assertEquals("2.25 USD per GPU-hour", fills.field("price"));
    assertTrue(bidder("bid", "list", "--status", "filled").out().contains(id + " "));

    Run leases = await(() -> bidder("leases"), r -> r.out().contains(id));
    assertEquals(SurplusCli.OK, leases.code(), leases.toString());
    String lease = leases.out().lines().filter(l -> l.contains(id)).findFirst().orElseThrow();
    // the only bid filled: the uniform price is its own limit; 4 x 8 GPU-hours at $2.25
    assertTrue(
        lease.matches(
            "lease_"
                + H100
                + "_\\d+\\s+"
                + id
                + "\\s+"
                + H100
                + "\\s+4\\s+8\\s.*\\s2\\.25\\s+72\\.00\\s+scheduled"),
        lease);
    String leaseId = lease.substring(0, lease.indexOf(' '));
    Run one = bidder("leases", leaseId);
    assertEquals(SurplusCli.OK, one.code(), one.toString());
    assertEquals(id, one.field("bid"));
    assertEquals("4 x 8 GPUs", one.field("nodes"));
    assertEquals("72.00 USD", one.field("cost"));

    JsonNode json = bidder("leases", "--json").json();
    assertEquals(id, json.get("leases").get(0).get("bidId").asText());
    assertEquals("2.25", json.get("leases").get(0).get("price").asText());

    Run late = bidder("bid", "cancel", id);
    assertEquals(SurplusCli.API_ERROR, late.code(), late.toString());
    assertTrue(
        late.err()
            .startsWith(
                "surplus: conflict: bid " + id + " is filled and cannot be cancelled (HTTP 409)"),
        late.err());
  }

  @Test
  void shouldCancelAnOpenBidAndNeverPlaceTwiceUnderOneIdempotencyKey() {
    String[] args = place(H100, 1, "60", 30, 50, "0.40", "--idempotency-key", "cli-test-once");
    Run first = bidder(args);
    Run again = bidder(args);
    assertEquals(SurplusCli.OK, first.code(), first.toString());
    assertEquals(SurplusCli.OK, again.code(), again.toString());
    String id = first.firstLineId();
    assertEquals(
        "already placed (same Idempotency-Key): " + id, again.out().lines().findFirst().get());

    Run cancelled = bidder("bid", "cancel", id);
    assertEquals(SurplusCli.OK, cancelled.code(), cancelled.toString());
    assertEquals("cancelled " + id, cancelled.out().lines().findFirst().get());
    assertEquals("cancelled", cancelled.field("status"));
    Run list = bidder("bid", "list", "--status", "cancelled");
    assertTrue(list.out().lines().anyMatch(l -> l.startsWith(id + " ")), list.out());
    assertEquals(1, list.out().lines().filter(l -> l.startsWith(id + " ")).count());
    JsonNode shown = bidder("bid", "show", id, "--json").json();
    assertEquals("cancelled", shown.get("status").asText());
  }

  @Test
  void shouldSteerABidByConfidenceAndPoolAndSayWhyADryRunWouldWait() {
    // an H100 window far from the other H100 test's (slots 0-16), 0.8 sure to last
    assertEquals(
        201,
        service
            .post(
                "/v1/windows",
                provider,
                "w-h100-steer",
                Bodies.window(H100, "ash-h100-s", "0.8", 8, 60, 80, "1.00"))
            .status());
    String pool = Bodies.poolOf(service, H100, 8, 60, 80);
    Run sure = bidder(place(H100, 2, "1h", 60, 80, "2.00", "--min-confidence", "0.9", "--dry-run"));
    assertEquals(SurplusCli.OK, sure.code(), sure.toString());
    assertTrue(sure.out().startsWith("would stay open (nothing was placed)"), sure.out());
    assertEquals(
        "BELOW_MIN_CONFIDENCE: every window that fits is less sure to last than asked",
        sure.field("reason"));
    Run avoiding = bidder(place(H100, 2, "1h", 60, 80, "2.00", "--avoid-pool", pool, "--dry-run"));
    assertEquals(
        "AVOIDED_POOL: every window that fits lies in a pool the bid avoids",
        avoiding.field("reason"));
    Run fits = bidder(place(H100, 2, "1h", 60, 80, "2.00", "--min-confidence", "0.8", "--dry-run"));
    assertTrue(fits.out().startsWith("would fill in the next epoch"), fits.out());

    // placed, it shows what it asked for; cancelled, it leaves the H100 book as it was
    Run placed =
        bidder(
            place(
                H100,
                2,
                "1h",
                60,
                80,
                "2.00",
                "--min-confidence",
                "0.95",
                "--avoid-pool",
                pool,
                "--avoid-pool",
                "pool-000001",
                "--requeue"));
    assertEquals(SurplusCli.OK, placed.code(), placed.toString());
    assertEquals("0.95", placed.field("min confidence"));
    assertEquals(
        String.join(", ", java.util.stream.Stream.of(pool, "pool-000001").sorted().toList()),
        placed.field("avoids pools"));
    assertEquals("yes, avoiding the pool that cut it", placed.field("requeue"));
    String id = placed.firstLineId();
    Run open = await(() -> bidder("bid", "show", id), r -> r.out().contains("AVOIDED_POOL"));
    assertEquals("open", open.field("status"));
    assertEquals(SurplusCli.OK, bidder("bid", "cancel", id).code());

    Run bad = bidder(place(H100, 2, "1h", 60, 80, "2.00", "--min-confidence", "1.5", "--dry-run"));
    assertEquals(SurplusCli.API_ERROR, bad.code(), bad.toString());
    assertTrue(bad.err().contains("minConfidence"), bad.err());
    Run badPool = bidder(place(H100, 2, "1h", 60, 80, "2.00", "--avoid-pool", "ash-h100-s"));
    assertEquals(SurplusCli.API_ERROR, badPool.code(), badPool.toString());
    assertTrue(badPool.err().contains("avoidPools"), badPool.err());
  }

  @Test
  void shouldPrintMarketTablesWithRealValuesAndTheApisJson() throws Exception {
    assertEquals(
        201,
        service
            .post("/v1/windows", provider, "w-a100", Bodies.window(A100, 8, 0, 16, "1.20"))
            .status());
    assertEquals(
        201,
        service
            .post("/v1/bids", bidder, "a100-fill", Bodies.bid(A100, 2, 120, 0, 16, "1.80"))
            .status());
    assertEquals(
        201,
        service
            .post("/v1/bids", bidder, "a100-low", Bodies.bid(A100, 3, 60, 0, 16, "0.90"))
            .status());

    Run trades = await(() -> bidder("market", "trades", A100), r -> r.out().contains("1.80"));
    assertEquals(SurplusCli.OK, trades.code(), trades.toString());
    assertTrue(
        trades.out().matches("(?s)CLEARED \\(UTC\\)\\s+EPOCH\\s+PRICE\\s+NODES.*"), trades.out());
    // 2 nodes x 8 GPUs x 2 h
    assertTrue(
        trades.out().lines().skip(1).anyMatch(l -> l.matches(".*\\s1\\.80\\s+2\\s+8\\s+32\\s.*")),
        trades.out());
    JsonNode tradesJson = bidder("market", "trades", A100, "--json").json();
    assertEquals("1.80", tradesJson.get("trades").get(0).get("price").asText());
    assertEquals("32", tradesJson.get("trades").get(0).get("gpuHours").asText());

    // the latest epoch filled the bid at 1.80, or (when the low bid came after it) filled nothing
    // (-); a market skips epochs with nothing new to try, so there may be none after the fill.
    // Best open bid 0.90, cheapest window 1.20, 3 nodes wanted, no node free yet (the window
    // starts in the future)
    String line = A100 + "\\s+8\\s+\\d+\\s+(-|1\\.80)\\s+0\\.90\\s+1\\.20\\s+3\\s+0";
    Run markets =
        await(
            () -> bidder("market", "list"),
            r -> r.out().lines().anyMatch(l -> l.startsWith(A100) && l.matches(line)));
    assertEquals(SurplusCli.OK, markets.code(), markets.toString());
    String a100 = markets.out().lines().filter(l -> l.startsWith(A100)).findFirst().orElseThrow();
    assertTrue(a100.matches(line), a100);
    JsonNode marketsJson = bidder("market", "list", "--json").json();
    assertEquals(3, marketsJson.get("markets").size());

    Run book = bidder("market", "book", A100);
    assertEquals(SurplusCli.OK, book.code(), book.toString());
    assertTrue(book.out().startsWith(A100 + " at "), book.out());
    assertTrue(
        book.out().contains("Bids (demand)\nLIMIT  BIDS  NODES  CUMULATIVE NODES\n"), book.out());
    assertTrue(
        book.out().lines().anyMatch(l -> l.matches("\\s*0\\.90\\s+1\\s+3\\s+3")), book.out());
    assertTrue(
        book.out().lines().anyMatch(l -> l.matches("\\s*1\\.20\\s+1\\s+0\\s+28\\s+0")), book.out());
    JsonNode bookJson = bidder("--json", "market", "book", A100).json();
    assertEquals("0.90", bookJson.get("bids").get(0).get("limitPrice").asText());

    Run candles = await(() -> bidder("market", "candles", A100), r -> r.out().contains("1.80"));
    assertEquals(SurplusCli.OK, candles.code(), candles.toString());
    String candle = candles.out().lines().filter(l -> l.contains("1.80")).findFirst().orElseThrow();
    // one fill: open = high = low = close = 1.80, 32 GPU-hours, $57.60
    assertTrue(
        candle.matches(".*\\s1\\.80\\s+1\\.80\\s+1\\.80\\s+1\\.80\\s+32\\s+57\\.60\\s+1"), candle);
    JsonNode candlesJson = bidder("market", "candles", A100, "--interval", "15m", "--json").json();
    assertEquals("15m", candlesJson.get("interval").asText());
    assertEquals("1.80", candlesJson.get("candles").get(0).get("close").asText());
  }

  @Test
  void shouldPrintAMarketsRulesFromTheService() throws Exception {
    Run rules = bidder("market", "rules", A100);
    assertEquals(SurplusCli.OK, rules.code(), rules.toString());
    // the service's application.conf: 15-minute slots, a week ahead; the test service's epochs
    for (String line :
        List.of(
            "market\\s+" + A100,
            "slot\\s+15m \\(UTC grid\\)",
            "horizon\\s+7d",
            "price tick\\s+0\\.000001 USD per GPU-hour",
            "highest limit\\s+1000\\.00 USD per GPU-hour",
            "duration\\s+15m to 7d, rounded up to whole slots",
            "clears\\s+every 300 ms, PAY_AS_CLEAR")) {
      assertTrue(
          rules.out().lines().anyMatch(l -> l.strip().matches(line)), line + " in\n" + rules.out());
    }
    JsonNode json = bidder("market", "rules", A100, "--json").json();
    assertEquals(900, json.get("rules").get("slotSeconds").asInt());
    Run unknown = bidder("market", "rules", "B200-NOPE");
    assertEquals(SurplusCli.API_ERROR, unknown.code(), unknown.toString());
    assertTrue(unknown.err().contains("(HTTP 404)"), unknown.err());
  }

  /** {@code args} after {@code first}: options go after the subcommand. */
  static String[] concat(String[] args, String... first) {
    String[] all = java.util.Arrays.copyOf(first, first.length + args.length);
    System.arraycopy(args, 0, all, first.length, args.length);
    return all;
  }

  @Test
  void shouldPrintAProvidersStatementAndRefuseBadDaysAndBidders() {
    // 3 nodes over 4 slots (3 node-hours) of ash-h100-a, nothing sold (its reserve is above every
    // bid here)
    assertEquals(
        201,
        service
            .post("/v1/windows", provider, "cli-stmt", Bodies.window(H200, 3, 40, 44, "900.00"))
            .status());
    Map<String, String> env = env(provider);
    java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
    String[] days = {"--from", today.minusDays(1).toString(), "--to", today.plusDays(3).toString()};
    Run st =
        await(
            () -> cli(env, concat(days, "provider", "statement", "--pool", "ash-h100-a")),
            r -> r.code() == SurplusCli.OK && r.out().contains(H200));
    assertTrue(
        st.out()
            .lines()
            .anyMatch(l -> l.strip().matches(H200 + "\\s+ash-h100-a\\s+3\\s+0\\s+0\\s+3\\s+.*")),
        st.out());
    JsonNode json =
        cli(env, concat(days, "provider", "statement", "--pool", "ash-h100-a", "--json")).json();
    JsonNode h200 = null;
    for (JsonNode t : json.get("totals")) {
      h200 = t.get("market").asText().equals(H200) ? t : h200;
    }
    assertEquals("3", h200.get("offeredNodeHours").asText(), json.toString());
    assertEquals("0.00", h200.get("revenue").asText(), json.toString());
    Run bad = cli(env, "provider", "statement", "--from", "tomorrow");
    assertEquals(SurplusCli.API_ERROR, bad.code(), bad.toString());
    assertTrue(bad.err().contains("from"), bad.err());
    Run bidderAsks = bidder("provider", "statement");
    assertEquals(SurplusCli.API_ERROR, bidderAsks.code(), bidderAsks.toString());
    assertTrue(bidderAsks.err().contains("(HTTP 403)"), bidderAsks.err());
  }

  @Test
  void shouldWatchAMarketLiveAndStopAfterCountLines() throws Exception {
    // an open bid, and a change each interval far from it (a market skips idle epochs), keep the
    // market clearing every epoch
    assertEquals(
        201,
        service
            .post("/v1/bids", bidder, "h200-open", Bodies.bid(H200, 1, 60, 0, 8, "0.10"))
            .status());
    try (AutoCloseable clearing = service.keepClearing(provider, List.of(H200))) {
      watchLive();
    }
  }

  private void watchLive() {
    Run watch = cli(env(null), "watch", H200, "--count", "2", "--for", "60s");
    assertEquals(SurplusCli.OK, watch.code(), watch.toString());
    List<String> lines = watch.out().lines().toList();
    assertEquals(2, lines.size(), watch.out());
    for (String l : lines) {
      assertTrue(
          l.matches(
              ".*  "
                  + H200
                  + "  epoch \\d+  price -  leases 0  filled nodes 0  open bids 1"
                  + "  waiting: NO_CAPACITY_IN_WINDOW 1"),
          l);
    }
    assertTrue(watch.err().contains("watching " + H200), watch.err());

    Run json = bidder("watch", H200, "--count", "1", "--for", "60s", "--json");
    assertEquals(SurplusCli.OK, json.code(), json.toString());
    JsonNode epoch = json.json();
    assertEquals("epoch", epoch.get("type").asText());
    assertEquals(H200, epoch.get("gpuModel").asText());

    Run unknown = bidder("watch", "B200-SXM-192GB", "--count", "1");
    assertEquals(SurplusCli.API_ERROR, unknown.code(), unknown.toString());
    assertTrue(unknown.err().contains("no market 'B200-SXM-192GB'"), unknown.err());
  }

  @Test
  void shouldReadTheKeyAndUrlFromAConfigFile() throws IOException {
    Path file =
        Files.writeString(
            home.resolve("cli.properties"), "url=" + service.base() + "\nkey=" + bidder + "\n");
    Map<String, String> env = Map.of("HOME", home.toString());
    Run r = cli(env, "--config", file.toString(), "bid", "list", "--json");
    assertEquals(SurplusCli.OK, r.code(), r.toString());
    assertTrue(r.json().has("bids"), r.out());
  }

  @Test
  void shouldSayClearlyWhatWentWrongAndExitWithItsCode() throws IOException {
    Run noKey = cli(env(null), "bid", "list");
    assertEquals(SurplusCli.USAGE, noKey.code(), noKey.toString());
    assertTrue(noKey.err().startsWith("surplus: no API key: set SURPLUS_API_KEY="), noKey.err());
    assertEquals("", noKey.out());

    Run wrongKey = cli(env("sk_81_notTheRealSecret"), "bid", "list");
    assertEquals(SurplusCli.API_ERROR, wrongKey.code(), wrongKey.toString());
    assertEquals(
        "surplus: the API key was refused: the API key is not valid (HTTP 401); check the key in"
            + " the environment variable SURPLUS_API_KEY\n",
        wrongKey.err());

    Run providerKey = cli(env(provider), "bid", "list");
    assertEquals(SurplusCli.API_ERROR, providerKey.code(), providerKey.toString());
    assertTrue(
        providerKey
            .err()
            .startsWith(
                "surplus: this key may not do that: a provider key may not call GET /v1/bids (HTTP 403)"),
        providerKey.err());

    Run unknownMarket = bidder("market", "book", "B200-SXM-192GB");
    assertEquals(SurplusCli.API_ERROR, unknownMarket.code(), unknownMarket.toString());
    assertTrue(
        unknownMarket
            .err()
            .startsWith("surplus: not found: no market 'B200-SXM-192GB'; markets: ["),
        unknownMarket.err());
    assertTrue(unknownMarket.err().contains("(HTTP 404)"), unknownMarket.err());

    Run unknownBid = bidder("bid", "show", "bid_81_999999");
    assertEquals(SurplusCli.API_ERROR, unknownBid.code(), unknownBid.toString());
    assertTrue(unknownBid.err().contains("no bid bid_81_999999"), unknownBid.err());

    Run badPrice = bidder(place(H100, 1, "1h", 0, 8, "2.1234567"));
    assertEquals(SurplusCli.API_ERROR, badPrice.code(), badPrice.toString());
    assertTrue(
        badPrice
            .err()
            .startsWith("surplus: a field breaks a rule: limitPrice must be a decimal string"),
        badPrice.err());
    assertTrue(badPrice.err().contains("(HTTP 422, field limitPrice)"), badPrice.err());
    Run badPriceJson = bidder(place(H100, 1, "1h", 0, 8, "abc", "--json"));
    assertEquals(SurplusCli.API_ERROR, badPriceJson.code());
    assertEquals("limitPrice", badPriceJson.json().get("field").asText());

    Run badModel = bidder(place("B200-SXM-192GB", 1, "1h", 0, 8, "1.00"));
    assertEquals(SurplusCli.API_ERROR, badModel.code(), badModel.toString());
    assertTrue(badModel.err().contains("(HTTP 422, field gpuModel)"), badModel.err());

    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Run down = bidder("market", "list", "--url", "http://127.0.0.1:" + closed);
    assertEquals(SurplusCli.UNAVAILABLE, down.code(), down.toString());
    assertEquals(
        "surplus: the service is not running at http://127.0.0.1:"
            + closed
            + " (connection refused); start it with ./surplus up, or point --url or SURPLUS_URL"
            + " at it\n",
        down.err());
    Run downWatch = bidder("watch", H100, "--url", "http://127.0.0.1:" + closed);
    assertEquals(SurplusCli.UNAVAILABLE, downWatch.code(), downWatch.toString());
  }
}
