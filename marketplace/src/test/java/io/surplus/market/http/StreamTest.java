package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A WebSocket client on /v1/stream sees the epoch that fills a bid, with its price. */
class StreamTest {

  /**
   * Where a test opens its streams: {@code /v1/stream} on the API's port (Pekko HTTP) or on the
   * market-data port (MarketDataServer), the same stream served twice.
   */
  enum Port {
    API,
    MARKET_DATA;

    String http(TestService s) {
      return this == API ? s.base() : "http://127.0.0.1:" + s.service().marketDataPort();
    }

    String ws(TestService s) {
      return http(s).replace("http:", "ws:") + "/v1/stream";
    }

    TestService.Reply get(TestService s, String path, String key) {
      return s.sendTo(http(s), "GET", path, key, null, null);
    }
  }

  @ParameterizedTest
  @EnumSource(Port.class)
  void shouldPushEachDurableEpochOfTheChosenMarketToWebSocketClients(Port port) throws Exception {
    TestService service = TestService.start("strm" + System.nanoTime() % 1_000_000);
    try {
      String bidder = service.account(71, Role.BIDDER, 10_000_000_000L);
      String provider = service.account(72, Role.PROVIDER, 0);
      Stream stream = listen(port, service, "?markets=H200-SXM-141GB");
      WebSocket ws = stream.ws();
      BlockingQueue<String> received = stream.received();
      String model = "H200-SXM-141GB";
      // a bid below any reserve, and a change each interval (a market skips idle epochs) keep the
      // market clearing; once its epochs reach the client, the subscription has spread through
      // the cluster's receptionist and nothing later is missed
      assertEquals(
          201,
          service.post("/v1/bids", bidder, "low", Bodies.bid(model, 1, 60, 0, 8, "0.10")).status());
      try (AutoCloseable clearing = service.keepClearing(provider, List.of(model))) {
        assertNotNull(first(received, "epoch"), "the stream never went live");
        assertRenderedOncePerEpochForAllStreams(service, model);
      }
      assertEquals(
          201,
          service
              .post("/v1/windows", provider, "w", Bodies.window(model, 8, 0, 8, "1.00"))
              .status());
      assertEquals(
          201,
          service.post("/v1/bids", bidder, "b", Bodies.bid(model, 2, 60, 0, 8, "1.75")).status());
      JsonNode filled = null;
      long deadline = System.nanoTime() + TestService.WAIT.toNanos();
      while (filled == null && System.nanoTime() < deadline) {
        String m = received.poll(1, TimeUnit.SECONDS);
        if (m != null && !m.contains("\"heartbeat\"")) {
          JsonNode n = Json.MAPPER.readTree(m);
          assertEquals(model, n.get("gpuModel").asText(), m); // only the chosen market
          if (n.get("leases").asInt() > 0) {
            filled = n;
          }
        }
      }
      assertNotNull(filled, "no epoch with a lease arrived");
      assertEquals("epoch", filled.get("type").asText());
      assertEquals("1.75", filled.get("clearingPrice").asText());
      assertEquals(2, filled.get("filledNodes").asInt());
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
      assertEquals(400, port.get(service, "/v1/stream", null).status());
    } finally {
      service.close();
    }
  }

  /**
   * A client that stops reading is closed with a reason once its buffer is full, after every
   * message it was sent before that; another subscriber of the same market meanwhile gets every
   * epoch.
   */
  @ParameterizedTest
  @EnumSource(Port.class)
  void shouldCloseASubscriberThatStopsReadingAndKeepEveryEpochFlowingToTheOthers(Port port)
      throws Exception {
    TestService service =
        TestService.start(
            "strs" + System.nanoTime() % 1_000_000,
            "surplus.stream.client-buffer = "
                + SLOW_BUFFER
                + "\n"
                // a small send buffer: a client that stops reading backs up to its stream sooner
                + "pekko.http.server.socket-options.so-send-buffer-size = 4k\n"
                + "surplus.stream.market-data-send-buffer = 4096\n");
    try {
      String bidder = service.account(70, Role.BIDDER, 10_000_000_000L);
      String provider = service.account(76, Role.PROVIDER, 0);
      List<String> models = List.of("H100-SXM-80GB", "H200-SXM-141GB", "A100-SXM-80GB");
      AutoCloseable clearing = service.keepClearing(provider, models);
      for (String model : models) {
        // a bid below any reserve in each market, and keepClearing's change each interval: every
        // market clears every epoch, every epoch on the stream
        assertEquals(
            201,
            service
                .post("/v1/bids", bidder, "low-" + model, Bodies.bid(model, 1, 60, 0, 8, "0.10"))
                .status());
      }
      String h200 = "H200-SXM-141GB";
      Stream normal = listen(port, service, "?markets=" + h200);
      Map<String, Long> normalFrom = epochs(normal.subscribed());
      RawWebSocket slow = RawWebSocket.open(URI.create(port.ws(service)), 2048);
      RawWebSocket.Frame first = slow.read();
      JsonNode subscribed = Json.MAPPER.readTree(first.text());
      assertEquals("subscribed", subscribed.get("type").asText(), first.text());
      // from here on the slow client reads nothing until the server has cut it off
      TestService.await(
          () -> service.get("/metrics", null),
          r -> metric(r.body(), "surplus_stream_closed_too_slow_total") >= 1);

      // the other subscriber has had every epoch of its market, and they keep coming
      Map<String, Long> normalLast = new HashMap<>(normalFrom);
      everyEpoch(normal.received(), normalLast, -1);
      long atCut = normalLast.get(h200);
      everyEpoch(normal.received(), normalLast, atCut + 5);
      assertTrue(
          normalLast.get(h200) >= atCut + 5,
          "epochs after the cut: " + atCut + " to " + normalLast.get(h200));

      // the slow one gets every message it was sent, in order, then the close frame and its reason
      Map<String, Long> slowLast = epochs(subscribed);
      int texts = 0;
      RawWebSocket.Frame f;
      while ((f = slow.read()).opcode() != RawWebSocket.Frame.CLOSE) {
        assertEquals(RawWebSocket.Frame.TEXT, f.opcode());
        JsonNode m = Json.MAPPER.readTree(f.text());
        if (m.get("type").asText().equals("epoch")) {
          next(slowLast, m);
          texts++;
        }
      }
      assertEquals(1008, f.closeCode(), f.closeReason());
      assertEquals("client too slow: " + SLOW_BUFFER + " messages behind", f.closeReason());
      assertTrue(texts >= SLOW_BUFFER, "epochs before the close: " + texts);
      clearing.close();
      slow.close();
      normal.ws().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    } finally {
      service.close();
    }
  }

  /**
   * With five streams on {@code model} (the only market clearing), the node renders each epoch
   * once, not once per stream: over ten epochs or more, {@code surplus_stream_rendered_total} grows
   * by the epochs passed on (one or two more may be rendered and not yet received when it is read),
   * where a render per stream would grow it five times as fast.
   */
  static void assertRenderedOncePerEpochForAllStreams(TestService service, String model)
      throws Exception {
    List<Stream> streams = new java.util.ArrayList<>();
    long joinedAt = -1;
    for (int i = 0; i < 4; i++) {
      Stream s = listen(service, "?markets=" + model);
      streams.add(s);
      joinedAt = Math.max(joinedAt, epochs(s.subscribed()).get(model));
    }
    // every stream has joined, and the fan-out has rendered at least up to epoch joinedAt
    double before = metric(service.get("/metrics", null).body(), "surplus_stream_rendered_total");
    Stream last = streams.get(streams.size() - 1);
    Map<String, Long> seen = epochs(last.subscribed());
    everyEpoch(last.received(), seen, joinedAt + 10);
    double after = metric(service.get("/metrics", null).body(), "surplus_stream_rendered_total");
    everyEpoch(last.received(), seen, -1);
    long passed = seen.get(model) - joinedAt;
    assertTrue(passed >= 10, "epochs passed on: " + passed);
    assertTrue(
        after - before <= passed + 2,
        "rendered " + (after - before) + " times for " + passed + " epochs and 5 streams");
    // the service's share of each epoch's lag is timed as it is handed to the streams
    assertTrue(
        metric(service.get("/metrics", null).body(), "surplus_stream_epoch_lag_seconds_count")
            >= passed,
        "the fan-out timed fewer epochs than it passed on");
    for (Stream s : streams) {
      s.ws().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The slow client's buffer in {@link
   * #shouldCloseASubscriberThatStopsReadingAndKeepEveryEpochFlowingToTheOthers}.
   */
  static final int SLOW_BUFFER = 8;

  /** The markets of a {@code subscribed} message, each at the epoch it names (-1: none yet). */
  static Map<String, Long> epochs(JsonNode subscribed) {
    Map<String, Long> epochs = new HashMap<>();
    for (JsonNode m : subscribed.get("markets")) {
      epochs.put(
          m.get("gpuModel").asText(), m.get("epoch").isNull() ? -1 : m.get("epoch").asLong());
    }
    return epochs;
  }

  /**
   * Takes an epoch message: it must be the one after the last of its market ({@code last}, from the
   * stream's {@code subscribed}); returns its number.
   */
  static long next(Map<String, Long> last, JsonNode m) {
    String model = m.get("gpuModel").asText();
    assertTrue(last.containsKey(model), "a market the stream does not follow: " + m);
    long epoch = m.get("epoch").asLong();
    long before = last.put(model, epoch);
    if (before >= 0) {
      assertEquals(before + 1, epoch, "an epoch of " + model + " went missing: " + m);
    }
    return epoch;
  }

  /**
   * Takes every epoch {@code q} has, each the next of its market, until one numbered at least
   * {@code until} (with -1: until {@code q} is empty); returns the last epoch taken.
   */
  static long everyEpoch(BlockingQueue<String> q, Map<String, Long> last, long until)
      throws Exception {
    long deadline = System.nanoTime() + TestService.WAIT.toNanos();
    long latest = -1;
    while (System.nanoTime() < deadline) {
      String m = until < 0 ? q.poll() : q.poll(1, TimeUnit.SECONDS);
      if (m == null) {
        if (until < 0) {
          return latest;
        }
        continue;
      }
      JsonNode n = Json.MAPPER.readTree(m);
      if (n.get("type").asText().equals("epoch")) {
        latest = next(last, n);
        if (until >= 0 && latest >= until) {
          return latest;
        }
      }
    }
    return latest;
  }

  /** A counter's value in a Prometheus page (0 when it is not there). */
  static double metric(String page, String name) {
    return page.lines()
        .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /** An open stream and the text messages it has received. */
  record Stream(WebSocket ws, BlockingQueue<String> received, JsonNode subscribed) {}

  /** Opens a stream and collects its text messages. */
  static Stream listen(TestService service, String query) throws Exception {
    return listen(Port.API, service, query);
  }

  /** Opens a stream on {@code port} and collects its text messages. */
  static Stream listen(Port port, TestService service, String query) throws Exception {
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    WebSocket ws =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(
                URI.create(port.ws(service) + query),
                new WebSocket.Listener() {
                  final StringBuilder text = new StringBuilder();

                  @Override
                  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                      received.add(text.toString());
                      text.setLength(0);
                    }
                    w.request(1);
                    return null;
                  }
                })
            .get(30, TimeUnit.SECONDS);
    // the stream is live once it says so: every event after that reaches this client
    JsonNode subscribed = first(received, "subscribed");
    assertNotNull(subscribed, "the stream never said it was subscribed");
    return new Stream(ws, received, subscribed);
  }

  static JsonNode first(BlockingQueue<String> q, String type) throws Exception {
    long deadline = System.nanoTime() + TestService.WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      String m = q.poll(1, TimeUnit.SECONDS);
      if (m != null && Json.MAPPER.readTree(m).get("type").asText().equals(type)) {
        return Json.MAPPER.readTree(m);
      }
    }
    return null;
  }

  @Test
  void shouldTellABidderOnItsOwnStreamThatItsLeaseIsCutAndEveryoneThatCapacityWasRevoked()
      throws Exception {
    TestService service = TestService.start("strv" + System.nanoTime() % 1_000_000);
    try {
      String bidder = service.account(73, Role.BIDDER, 10_000_000_000L);
      String other = service.account(75, Role.BIDDER, 10_000_000_000L);
      String provider = service.account(74, Role.PROVIDER, 0);
      String model = "A100-SXM-80GB";
      BlockingQueue<String> mine = listen(service, "?token=" + token(service, bidder)).received();
      BlockingQueue<String> theirs = listen(service, "?token=" + token(service, other)).received();
      BlockingQueue<String> everyone = listen(service, "").received();
      assertEquals(
          200,
          FeedTestLines.feed(
                  service, provider, FeedTestLines.opened(1, "s-1", model, 2, 1, 9, "0.50", 600))
              .status());
      String bidId =
          service
              .post("/v1/bids", bidder, "b", Bodies.bid(model, 2, 60, 1, 9, "1.50"))
              .json()
              .get("id")
              .asText();
      for (BlockingQueue<String> q : List.of(mine, theirs, everyone)) {
        assertNotNull(first(q, "epoch"), "a stream never went live");
      }
      BidFlowTest.await(
          () -> service.get("/v1/bids/" + bidId, bidder),
          r -> r.json().get("status").asText().equals("filled"));
      assertEquals(
          200,
          FeedTestLines.feed(
                  service,
                  provider,
                  FeedTestLines.revoked(2, "s-1", "emergency", java.time.Instant.now(), 2))
              .status());
      JsonNode notice = first(mine, "lease.notified");
      assertNotNull(notice, "no private notice");
      assertEquals(bidId, notice.get("bidId").asText());
      assertEquals("emergency", notice.get("kind").asText());
      JsonNode revocation = first(everyone, "revocation");
      assertNotNull(revocation, "no public revocation");
      assertEquals(1, revocation.get("leasesCut").asInt());
      assertEquals(2, revocation.get("nodesCut").asInt());
      // another bidder's stream carries the public event but never this bidder's notice
      assertNotNull(first(theirs, "revocation"));
      for (String m : theirs) {
        assertFalse(m.contains("lease.notified"), m);
      }
    } finally {
      service.close();
    }
  }

  /** A stream token for {@code key}'s account. */
  static String token(TestService service, String key) {
    TestService.Reply r = service.post("/v1/stream/tokens", key, null, null);
    assertEquals(201, r.status(), r.body());
    return r.json().get("token").asText();
  }

  static void assertProblem(TestService.Reply r, int status, String type, String field) {
    assertEquals(status, r.status(), r.body());
    assertEquals(Problem.BASE + type, r.json().get("type").asText(), r.body());
    JsonNode f = r.json().get("field");
    assertEquals(field, f == null ? null : f.asText(), r.body());
  }

  @ParameterizedTest
  @EnumSource(Port.class)
  void shouldOpenThePrivateStreamWithAShortLivedTokenAndRefuseAnyApiKeyThere(Port port)
      throws Exception {
    TestService service = TestService.start("strt" + System.nanoTime() % 1_000_000);
    try {
      String bidder = service.account(76, Role.BIDDER, 10_000_000_000L);
      String provider = service.account(77, Role.PROVIDER, 0);
      String admin = service.account(78, Role.ADMIN, 0);

      // a full key in the URL, valid or not, or in a header, is refused before anything else
      assertProblem(
          port.get(service, "/v1/stream?key=" + bidder, null), 400, "stream-token-required", "key");
      assertProblem(
          port.get(service, "/v1/stream?key=sk_76_wrong", null),
          400,
          "stream-token-required",
          "key");
      assertProblem(
          port.get(service, "/v1/stream", bidder), 400, "stream-token-required", "Authorization");

      TestService.Reply issued = service.post("/v1/stream/tokens", bidder, null, null);
      assertEquals(201, issued.status(), issued.body());
      String token = issued.json().get("token").asText();
      assertEquals(76, issued.json().get("account").asLong());
      long left =
          java.time.Duration.between(
                  java.time.Instant.now(),
                  java.time.Instant.parse(issued.json().get("expiresAt").asText()))
              .toSeconds();
      assertTrue(left > 240 && left <= 300, "five minutes: " + issued.body());
      assertFalse(token.contains(bidder.substring(bidder.lastIndexOf('_') + 1)), token);
      assertEquals(201, service.post("/v1/stream/tokens", provider, null, null).status());
      assertEquals(403, service.post("/v1/stream/tokens", admin, null, null).status());
      assertEquals(401, service.post("/v1/stream/tokens", null, null, null).status());

      // read-only: a token is no API key
      assertEquals(401, service.get("/v1/account", token).status());
      assertEquals(401, service.post("/v1/stream/tokens", token, null, null).status());

      // a token that names another account, or is cut short, does not verify
      String forged = token.replaceFirst("^st_76_", "st_77_");
      assertProblem(
          port.get(service, "/v1/stream?token=" + forged, null),
          401,
          "stream-token-invalid",
          "token");
      assertProblem(
          port.get(service, "/v1/stream?token=" + token.substring(0, token.length() - 2), null),
          401,
          "stream-token-invalid",
          "token");
      // a genuine token passes; the plain GET then only lacks the WebSocket upgrade
      TestService.Reply plain = port.get(service, "/v1/stream?token=" + token, null);
      assertProblem(plain, 400, "websocket-required", null);

      if (port == Port.MARKET_DATA) {
        // the market-data port serves the stream and the public reads, and only by GET
        assertProblem(port.get(service, "/v1/bids", null), 404, "not-found", null);
        assertProblem(
            service.sendTo(port.http(service), "POST", "/v1/stream", null, null, "{}"),
            405,
            "method-not-allowed",
            null);
      }
      Stream live = listen(port, service, "?token=" + token);
      assertNotNull(live.ws());
      live.ws().sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    } finally {
      service.close();
    }
  }
}
