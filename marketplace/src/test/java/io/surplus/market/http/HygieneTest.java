package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the issue "No input can stop a market" found about reads, bodies and the protocol, against
 * the real service over raw sockets and HTTP: every cursor is the service's own or a {@code 400}
 * naming it, and no cursor makes a read walk far; bodies that do not arrive get {@code 408} (the
 * feed's with its {@code lastApplied}, and the provider's next request goes through); a body of
 * another media type gets {@code 415}; every error the server makes itself is a problem document;
 * single bids and batch items have separate idempotency namespaces.
 */
class HygieneTest {

  static final String H100 = "H100-SXM-80GB";

  /** The body timeouts of this service: short, so the tests of them are quick. */
  static final Duration BODY_TIMEOUT = Duration.ofSeconds(2);

  /** The server's own request timeout here: above the body timeouts, as in application.conf. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8);

  /** How long a raw exchange waits for its answer: well past every timeout above. */
  static final Duration ANSWER_WITHIN = Duration.ofSeconds(30);

  static TestService service;
  static String bidder;
  static long bidderId;
  static long nextAccount = 300;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    service =
        TestService.start(
            "hyg" + System.nanoTime() % 1_000_000,
            "surplus.http.body-timeout = "
                + BODY_TIMEOUT.toSeconds()
                + "s\n"
                + "surplus.http.feed-idle-timeout = "
                + BODY_TIMEOUT.toSeconds()
                + "s\n"
                + "pekko.http.server.request-timeout = "
                + REQUEST_TIMEOUT.toSeconds()
                + "s\n");
    bidderId = ++nextAccount;
    bidder = service.account(bidderId, Role.BIDDER, 1_000_000_000L);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  static JsonNode problem(TestService.Reply r, int status, String type, String field) {
    assertEquals(status, r.status(), r.body());
    assertEquals("application/problem+json", r.header("Content-Type"), r.toString());
    JsonNode p = r.json();
    assertEquals(Problem.BASE + type, p.get("type").asText(), r.body());
    assertEquals(status, p.get("status").asInt(), r.body());
    assertNotNull(p.get("detail"), r.body());
    if (field != null) {
      assertEquals(field, p.path("field").asText(), r.body());
    }
    return p;
  }

  /** A cursor in the unsigned form of the old code (the fuzzer's forgery of it). */
  static String unsignedCursor(String partition, byte[] pagingState) {
    return io.surplus.fuzz.Cursors.unsigned(partition, pagingState);
  }

  // ------------------------------------------------------------------ bounded reads (finding 3)

  @Test
  void shouldRefuseALeaseCursorOfAFarMonthAtOnceInsteadOfWalkingBackToIt() {
    long started = System.nanoTime();
    TestService.Reply r =
        service.get("/v1/leases?cursor=" + unsignedCursor("9999-12", new byte[0]), bidder);
    problem(r, 400, "invalid-query", "cursor");
    // one query per month from 9999 would take minutes; a refusal takes no query at all
    assertTrue(
        Duration.ofNanos(System.nanoTime() - started).compareTo(Duration.ofSeconds(5)) < 0,
        "took " + Duration.ofNanos(System.nanoTime() - started));
  }

  @Test
  void shouldRefuseForgedPagingStatesNamingTheCursor() {
    byte[] garbage = "not a paging state of any driver".getBytes(StandardCharsets.US_ASCII);
    String month = java.time.YearMonth.now(java.time.ZoneOffset.UTC).toString();
    String day = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
    problem(
        service.get("/v1/leases?cursor=" + unsignedCursor(month, garbage), bidder),
        400,
        "invalid-query",
        "cursor");
    problem(
        service.get("/v1/markets/" + H100 + "/trades?cursor=" + unsignedCursor(day, garbage), null),
        400,
        "invalid-query",
        "cursor");
    problem(
        service.get("/v1/markets/" + H100 + "/trades?cursor=%21%21", null),
        400,
        "invalid-query",
        "cursor");
  }

  @Test
  void shouldRefuseABadBidCursorWith400() {
    problem(service.get("/v1/bids?cursor=nonsense", bidder), 400, "invalid-query", "cursor");
    // a bid id of another account is no cursor of this one
    problem(service.get("/v1/bids?cursor=bid_999_1", bidder), 400, "invalid-query", "cursor");
    TestService.Reply own = service.get("/v1/bids?cursor=bid_" + bidderId + "_1", bidder);
    assertEquals(200, own.status(), own.body());
  }

  @Test
  void shouldRefuseCandleInstantsOutsideTheirRangeNamingTheParameter() {
    String candles = "/v1/markets/" + H100 + "/candles?interval=1h";
    problem(
        service.get(candles + "&to=-1000000000-01-01T00:00:00Z", null), 400, "invalid-query", "to");
    problem(
        service.get(candles + "&from=-1000000000-01-01T00:00:00Z&to=2026-11-01T00:00:00Z", null),
        400,
        "invalid-query",
        "from");
    problem(
        service.get(candles + "&from=%2B1000000000-01-01T00:00:00Z", null),
        400,
        "invalid-query",
        "from");
    // the span is bounded too: 61 days of hourly candles is more than one request may cover
    problem(
        service.get(candles + "&from=2026-01-01T00:00:00Z&to=2026-03-03T00:00:00Z", null),
        400,
        "invalid-query",
        "to");
    assertEquals(
        200,
        service.get(candles + "&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", null).status());
  }

  // ------------------------------------------------------------------ body timeouts (finding 6)

  @Test
  void shouldAnswer408ToABidBodyThatTricklesPastTheTimeout() throws Exception {
    String bidder = service.account(++nextAccount, Role.BIDDER, 1_000_000_000L);
    String body = Bodies.bid(H100, 1, 60, 0, 8, "2.00");
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST /v1/bids HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + bidder
            + "\r\nIdempotency-Key: trickle-1\r\nContent-Type: application/json\r\n"
            + "Content-Length: "
            + bytes.length
            + "\r\n\r\n";
    // one byte every 250 ms: the whole body would take longer than the timeout
    Raw r = trickle(head, bytes, Duration.ofMillis(250), 1);
    problem(r.reply(), 408, "request-timeout", null);
    assertEquals(0, service.get("/v1/bids", bidder).json().get("bids").size());
  }

  @Test
  void shouldCutOffASilentFeedBodyWith408AndLetTheProvidersNextRequestThrough() throws Exception {
    String provider = service.account(++nextAccount, Role.PROVIDER, 0);
    String line = FeedTestLines.opened(1, "idle-1", H100, 2, 2, 6, "3.01", 0) + "\n";
    byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
    long started = System.nanoTime();
    try (Socket s = new Socket("127.0.0.1", service.service().port())) {
      s.setSoTimeout((int) ANSWER_WITHIN.toMillis());
      OutputStream out = s.getOutputStream();
      // declares more than it sends, then goes silent with the connection open
      out.write(
          ("POST /v1/feed HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + provider
                  + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: "
                  + (bytes.length + 1000)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(bytes);
      out.flush();
      TestService.Reply r = read(s.getInputStream()).reply();
      JsonNode p = problem(r, 408, "request-timeout", null);
      assertEquals(1, p.get("lastApplied").asLong(), r.body());
      assertEquals(1, p.get("applied").asLong(), r.body());
      assertTrue(
          Duration.ofNanos(System.nanoTime() - started).compareTo(REQUEST_TIMEOUT) < 0,
          "the feed's own timeout answers before the server's");
      // the provider's next request is not held behind the silent one
      TestService.Reply next =
          postRaw(
              "/v1/feed",
              provider,
              "application/x-ndjson",
              FeedTestLines.opened(2, "idle-2", H100, 2, 2, 6, "3.02", 0) + "\n");
      assertEquals(200, next.status(), next.body());
      assertEquals(2, next.json().get("lastApplied").asLong());
    }
  }

  @Test
  void shouldAnswerARequestPastTheServersRequestTimeoutWithAProblem() throws Exception {
    // a feed body that keeps talking (100 bytes every 500 ms) holds its provider's turn; the
    // provider's next request, complete (and empty, so the server's request timeout runs from its
    // start), waits behind it past the server's request timeout
    String provider = service.account(++nextAccount, Role.PROVIDER, 0);
    StringBuilder lines =
        new StringBuilder(FeedTestLines.opened(1, "hold-1", H100, 1, 2, 6, "7.77", 0) + "\n");
    for (int seq = 2; seq <= 200; seq++) {
      lines.append("{\"type\":\"heartbeat\",\"seq\":").append(seq).append("}\n");
    }
    byte[] body = lines.toString().getBytes(StandardCharsets.UTF_8);
    String head =
        "POST /v1/feed HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + provider
            + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    ScheduledExecutorService pace = Executors.newSingleThreadScheduledExecutor();
    try (Socket talking = new Socket("127.0.0.1", service.service().port())) {
      send(talking, head, body, Duration.ofMillis(500), 100, pace);
      // its first line is applied: it holds the provider's turn now
      TestService.await(
          () -> service.get("/v1/markets/" + H100 + "/book", null),
          r -> r.body().contains("\"7.77\""));
      TestService.Reply waited = postRaw("/v1/feed", provider, "application/x-ndjson", "");
      problem(waited, 503, "unavailable", null);
      assertNotNull(waited.header("Retry-After"), waited.toString());
    } finally {
      pace.shutdownNow();
    }
  }

  // ------------------------------------------------------------------ protocol hygiene (finding 7)

  @Test
  void shouldRefuseABodyOfAnotherMediaTypeWith415NamingTheHeader() throws Exception {
    String body = Bodies.bid(H100, 1, 60, 0, 8, "2.00");
    problem(
        postRaw("/v1/bids", bidder, "text/plain", body),
        415,
        "unsupported-media-type",
        "Content-Type");
    problem(
        postRaw("/v1/bids", bidder, "application/x-www-form-urlencoded", body),
        415,
        "unsupported-media-type",
        "Content-Type");
    // a body without any Content-Type
    problem(postRaw("/v1/bids", bidder, null, body), 415, "unsupported-media-type", "Content-Type");
    String provider = service.account(++nextAccount, Role.PROVIDER, 0);
    String line = FeedTestLines.opened(1, "ct-1", H100, 2, 2, 6, "3.11", 0) + "\n";
    problem(
        postRaw("/v1/feed", provider, "text/plain", line),
        415,
        "unsupported-media-type",
        "Content-Type");
    assertEquals(0, service.get("/v1/bids", bidder).json().get("bids").size());
    // what the documented clients send still goes through (a charset on JSON changes nothing)
    TestService.Reply ndjson = postRaw("/v1/feed", provider, "application/x-ndjson", line);
    assertEquals(200, ndjson.status(), ndjson.body());
    TestService.Reply json =
        postRaw("/v1/bids", bidder, "application/json; charset=utf-8", body, "ct-json");
    assertEquals(201, json.status(), json.body());
  }

  @Test
  void shouldAnswerEveryErrorTheServerMakesItselfWithAProblemDocument() throws Exception {
    // a broken request line or header, a method past max-method-length, an unknown method or
    // protocol
    problem(
        exchange("GET /v1/markets HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n").reply(),
        400,
        "bad-request",
        null);
    problem(
        exchange("GET /v1/markets HTTP/1.1 trailing\r\nHost: x\r\n\r\n").reply(),
        505,
        "http-version-not-supported",
        null);
    problem(
        exchange("A-METHOD-FAR-TOO-LONG-FOR-ANY-SERVER /v1/markets HTTP/1.1\r\n\r\n").reply(),
        400,
        "bad-request",
        null);
    problem(
        exchange("BREW /v1/markets HTTP/1.1\r\nHost: x\r\n\r\n").reply(),
        501,
        "not-implemented",
        null);
    // a URI past max-uri-length
    problem(
        exchange("GET /v1/markets?x=" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n").reply(),
        414,
        "uri-too-long",
        null);
    // a header past max-header-value-length
    problem(
        exchange("GET /v1/markets HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(10_000) + "\r\n\r\n")
            .reply(),
        431,
        "headers-too-large",
        null);
    // a transfer encoding the server does not take
    problem(
        exchange(
                "POST /v1/bids HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                    + "Content-Type: application/json\r\n\r\n")
            .reply(),
        400,
        "bad-request",
        null);
    // a declared body larger than any endpoint takes
    problem(
        exchange(
                "POST /v1/bids HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + bidder
                    + "\r\nIdempotency-Key: big-1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100000000\r\n\r\n{")
            .reply(),
        413,
        "body-too-large",
        null);
  }

  // ------------------------------------------------------------------ idempotency (finding 7)

  @Test
  void shouldKeepSingleBidKeysApartFromTheKeysOfBatchItems() {
    String key = service.account(++nextAccount, Role.BIDDER, 1_000_000_000L);
    String a = Bodies.bid(H100, 1, 60, 0, 8, "2.01");
    String b = Bodies.bid(H100, 1, 60, 0, 8, "2.02");
    // a single bid keyed "K#0", then a batch keyed "K": its item 0 is a bid of its own
    TestService.Reply single = service.post("/v1/bids", key, "ns-K#0", a);
    assertEquals(201, single.status(), single.body());
    TestService.Reply batch = service.post("/v1/bids/batch", key, "ns-K", "{\"bids\":[" + b + "]}");
    assertEquals(201, batch.status(), batch.body());
    JsonNode item = batch.json().get("results").get(0);
    assertEquals(201, item.get("status").asInt(), batch.body());
    assertNotEquals(single.json().get("id").asText(), item.get("bid").get("id").asText());
    // the other way round: a batch keyed "L", then a single bid keyed "L#0"
    TestService.Reply first = service.post("/v1/bids/batch", key, "ns-L", "{\"bids\":[" + a + "]}");
    assertEquals(201, first.status(), first.body());
    TestService.Reply then = service.post("/v1/bids", key, "ns-L#0", b);
    assertEquals(201, then.status(), then.body());
    // a single bid's key still answers its retry (keys are stored as sent, as before)
    TestService.Reply retry = service.post("/v1/bids", key, "ns-K#0", a);
    assertEquals(single.json().get("id").asText(), retry.json().get("id").asText());
    assertEquals("true", retry.header("Idempotent-Replayed"));
    TestService.Reply batchRetry =
        service.post("/v1/bids/batch", key, "ns-K", "{\"bids\":[" + b + "]}");
    assertEquals(
        item.get("bid").get("id").asText(),
        batchRetry.json().get("results").get(0).get("bid").get("id").asText());
    assertEquals(4, service.get("/v1/bids", key).json().get("bids").size());
  }

  // ------------------------------------------------------------------ raw HTTP

  /** A raw answer: the whole bytes the server sent before closing (or the deadline). */
  record Raw(String text) {
    TestService.Reply reply() {
      int headEnd = text.indexOf("\r\n\r\n");
      assertTrue(headEnd > 0, "no complete answer: " + text);
      String[] head = text.substring(0, headEnd).split("\r\n");
      int status = Integer.parseInt(head[0].split(" ")[1]);
      Map<String, java.util.List<String>> headers = new HashMap<>();
      for (int i = 1; i < head.length; i++) {
        int colon = head[i].indexOf(':');
        headers.put(
            head[i].substring(0, colon).toLowerCase(Locale.ROOT),
            java.util.List.of(head[i].substring(colon + 1).strip()));
      }
      return new TestService.Reply(status, headers, text.substring(headEnd + 4));
    }
  }

  /** Sends {@code request} and reads until the server closes or has sent its whole answer. */
  static Raw exchange(String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", service.service().port())) {
      s.setSoTimeout((int) ANSWER_WITHIN.toMillis());
      s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return read(s.getInputStream());
    }
  }

  /**
   * Sends {@code head}, then {@code body} {@code chunk} bytes at a time, one chunk per {@code
   * every}, on another thread, while this one waits for the answer.
   */
  static Raw trickle(String head, byte[] body, Duration every, int chunk) throws IOException {
    ScheduledExecutorService pace = Executors.newSingleThreadScheduledExecutor();
    try (Socket s = new Socket("127.0.0.1", service.service().port())) {
      send(s, head, body, every, chunk, pace);
      return read(s.getInputStream());
    } finally {
      pace.shutdownNow();
    }
  }

  /**
   * Writes {@code head} at once, then on {@code pace} {@code chunk} bytes of body per {@code
   * every}.
   */
  static void send(
      Socket s, String head, byte[] body, Duration every, int chunk, ScheduledExecutorService pace)
      throws IOException {
    s.setSoTimeout((int) ANSWER_WITHIN.toMillis());
    OutputStream out = s.getOutputStream();
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.flush();
    AtomicLong sent = new AtomicLong();
    pace.scheduleAtFixedRate(
        () -> {
          int from = (int) sent.get();
          if (from >= body.length) {
            return;
          }
          int n = Math.min(chunk, body.length - from);
          try {
            out.write(body, from, n);
            out.flush();
            sent.addAndGet(n);
          } catch (IOException closed) {
            sent.set(body.length); // the server answered and closed: stop sending
          }
        },
        0,
        every.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Reads one answer: its head, then as many body bytes as its Content-Length says. */
  static Raw read(InputStream in) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        got.write(buf, 0, n);
        if (complete(got.toString(StandardCharsets.UTF_8))) {
          break;
        }
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no answer within " + ANSWER_WITHIN + "; got: " + got, e);
    } catch (IOException reset) {
      // the server closed after answering; what came is the answer
    }
    return new Raw(got.toString(StandardCharsets.UTF_8));
  }

  private static boolean complete(String text) {
    int headEnd = text.indexOf("\r\n\r\n");
    if (headEnd < 0) {
      return false;
    }
    for (String line : text.substring(0, headEnd).split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        int length = Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
        return text.getBytes(StandardCharsets.UTF_8).length >= headEnd + 4 + length;
      }
    }
    return false;
  }

  static TestService.Reply postRaw(String path, String key, String contentType, String body)
      throws Exception {
    return postRaw(path, key, contentType, body, "raw-" + System.nanoTime());
  }

  /** A POST with exactly the Content-Type given (none when null). */
  static TestService.Reply postRaw(
      String path, String key, String contentType, String body, String idempotencyKey)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(service.base() + path))
            .timeout(ANSWER_WITHIN)
            .header("Authorization", "Bearer " + key)
            .header("Idempotency-Key", idempotencyKey)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new TestService.Reply(r.statusCode(), r.headers().map(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
