package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The public reads on the market-data port: the API's handlers from the same views, so the same
 * status, body and ETag as the API port; problems for what it does not serve; answers in order on a
 * kept-alive connection, even when one of them waits for Cassandra.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MarketDataReadsTest {

  static final String H100 = "H100-SXM-80GB";

  TestService service;
  String marketData;

  @BeforeAll
  void start() {
    service = TestService.start("mdreads");
    marketData = "http://127.0.0.1:" + service.service().marketDataPort();
  }

  @AfterAll
  void stop() {
    service.close();
  }

  TestService.Reply onMarketData(String path) {
    return service.sendTo(marketData, "GET", path, null, null, null);
  }

  /**
   * Both ports' answers to {@code path}, asked until neither changed between them (a view is
   * republished on an epoch): API, market data, API again, with the same ETag.
   */
  void assertSameOnBothPorts(String path) {
    TestService.await(
        () -> {
          TestService.Reply before = service.get(path, null);
          TestService.Reply here = onMarketData(path);
          TestService.Reply after = service.get(path, null);
          boolean settled =
              before.status() == after.status()
                  && before.body().equals(after.body())
                  && Objects.equals(before.header("ETag"), after.header("ETag"));
          if (!settled) {
            return null;
          }
          assertEquals(before.status(), here.status(), path + ": " + here);
          assertEquals(before.body(), here.body(), path);
          assertEquals(before.header("ETag"), here.header("ETag"), path);
          assertEquals(before.header("Content-Type"), here.header("Content-Type"), path);
          return here;
        },
        Objects::nonNull);
  }

  @Test
  void shouldAnswerEveryPublicReadAsTheApiPortDoes() {
    for (String path :
        List.of(
            "/v1/markets",
            "/v1/markets/" + H100,
            "/v1/markets/" + H100 + "/book",
            "/v1/markets/" + H100 + "/windows",
            "/v1/markets/" + H100 + "/trades",
            "/v1/markets/" + H100 + "/candles?interval=1h",
            "/health/alive",
            // problems come from the same handlers: the field named, the status the same
            "/v1/markets/NOPE/book",
            "/v1/markets/" + H100 + "/candles?interval=7x",
            "/v1/markets/" + H100 + "/trades?limit=0",
            "/v1/markets/" + H100 + "/epochs/abc")) {
      assertSameOnBothPorts(path);
    }
    TestService.Reply bad = onMarketData("/v1/markets/" + H100 + "/candles?interval=7x");
    assertEquals(400, bad.status());
    assertEquals("interval", bad.json().get("field").asText());
  }

  @Test
  void shouldAnswerNotModifiedToTheTagItSent() {
    TestService.Reply book = onMarketData("/v1/markets/" + H100 + "/book");
    String tag = book.header("ETag");
    assertNotNull(tag);
    TestService.await(
        () -> {
          String t = onMarketData("/v1/markets/" + H100 + "/book").header("ETag");
          var r =
              java.net.http.HttpClient.newHttpClient()
                  .sendAsync(
                      java.net.http.HttpRequest.newBuilder(
                              java.net.URI.create(marketData + "/v1/markets/" + H100 + "/book"))
                          .header("If-None-Match", t)
                          .build(),
                      java.net.http.HttpResponse.BodyHandlers.ofString())
                  .join();
          // the view may have moved on between the two reads: then a 200 with another tag
          return r.statusCode() == 304 && r.body().isEmpty()
              ? new TestService.Reply(r.statusCode(), r.headers().map(), r.body())
              : null;
        },
        Objects::nonNull);
  }

  @Test
  void shouldRefuseWhatItDoesNotServeWithAProblem() {
    TestService.Reply bids = onMarketData("/v1/bids");
    assertEquals(404, bids.status(), bids.toString());
    assertEquals("application/problem+json", bids.header("Content-Type"));
    TestService.Reply slash = onMarketData("/v1/markets/");
    assertEquals(404, slash.status(), slash.toString());
    TestService.Reply post = service.sendTo(marketData, "POST", "/v1/markets", null, null, "{}");
    assertEquals(405, post.status(), post.toString());
    assertEquals("GET", post.header("Allow"));
    assertEquals("method-not-allowed", post.json().get("type").asText().replaceAll(".*/", ""));
  }

  @Test
  void shouldAnswerPipelinedReadsInTheOrderAsked() throws IOException {
    int port = service.service().marketDataPort();
    List<String> paths =
        List.of(
            "/v1/markets/" + H100 + "/trades?limit=7", // a page read from Cassandra: answered later
            "/health/alive",
            "/v1/markets/NOPE/book",
            "/v1/markets/" + H100 + "/book");
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      StringBuilder all = new StringBuilder();
      for (String p : paths) {
        all.append("GET ").append(p).append(" HTTP/1.1\r\nHost: test\r\n\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(all.toString().getBytes(StandardCharsets.US_ASCII)); // one write: pipelined
      out.flush();
      InputStream in = socket.getInputStream();
      List<Integer> statuses = new ArrayList<>();
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < paths.size(); i++) {
        String[] head = readHead(in);
        statuses.add(Integer.parseInt(head[0].split(" ")[1]));
        int length = Integer.parseInt(head[1]);
        bodies.add(new String(in.readNBytes(length), StandardCharsets.UTF_8));
      }
      assertEquals(List.of(200, 200, 404, 200), statuses, String.join("\n", bodies));
      assertTrue(bodies.get(0).contains("\"trades\""), bodies.get(0));
      assertTrue(bodies.get(1).contains("alive"), bodies.get(1));
      assertTrue(bodies.get(3).contains("\"gpuModel\":\"" + H100 + "\""), bodies.get(3));
    }
  }

  /** The status line and the Content-Length of the next response's head. */
  static String[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    String status = null;
    String length = null;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the connection closed inside a response's head");
      }
      if (b != '\n') {
        line.write(b);
        continue;
      }
      String l = line.toString(StandardCharsets.US_ASCII).strip();
      line.reset();
      if (l.isEmpty()) {
        return new String[] {status, length};
      }
      if (status == null) {
        status = l;
      } else if (l.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = l.substring("content-length:".length()).strip();
      }
    }
  }
}
