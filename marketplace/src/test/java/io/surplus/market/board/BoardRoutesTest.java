package io.surplus.market.board;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.surplus.market.http.Api;
import io.surplus.market.http.Principal;
import io.surplus.market.http.Problem;
import io.surplus.market.http.RouteTests;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.testkit.TestRoute;
import org.apache.pekko.http.javadsl.testkit.TestRouteResult;
import org.junit.jupiter.api.Test;

/**
 * The board's files as the endpoint table serves them, without Cassandra: their types and caching
 * through the route test kit, and, on a real server bound to a free port, paths written as a
 * hostile client writes them (dot segments, encoded slashes, a NUL), sent byte for byte.
 */
class BoardRoutesTest extends RouteTests {

  final BoardRoutes board = new BoardRoutes();
  final Api api =
      new Api(
          Adapter.toTyped(system()),
          board.endpoints(),
          key ->
              CompletableFuture.<Principal>failedFuture(
                  Problem.unauthorized("no keys here").failure()),
          new SimpleMeterRegistry());
  final TestRoute route = testRoute(api.route());

  static String header(TestRouteResult r, String name) {
    return r.response().getHeader(name).map(HttpHeader::value).orElse(null);
  }

  static TestRouteResult get(TestRoute route, String path, String... headers) {
    HttpRequest request = HttpRequest.GET(path);
    for (int i = 0; i < headers.length; i += 2) {
      // parsed as a server parses it (If-None-Match as the modelled header, not a raw one)
      request = request.addHeader(HttpHeader.parse(headers[i], headers[i + 1]));
    }
    return route.run(request);
  }

  @Test
  void shouldServeThePageWithItsPolicyAndAnswer304ToItsTag() {
    TestRouteResult index = get(route, "/").assertStatusCode(200);
    assertEquals("text/html; charset=UTF-8", index.contentTypeString());
    assertEquals("no-cache", header(index, "Cache-Control"));
    assertEquals("nosniff", header(index, "X-Content-Type-Options"));
    assertTrue(header(index, "Content-Security-Policy").contains("default-src 'self'"));
    assertEquals("no-referrer", header(index, "Referrer-Policy"));
    String version = board.echartsVersion();
    assertEquals("5.5.0", version);
    assertTrue(index.entityString().contains("/webjars/echarts/5.5.0/echarts.esm.min.js"));
    assertFalse(index.entityString().contains("{{"), "every mark replaced");

    String etag = header(index, "ETag");
    TestRouteResult again = get(route, "/", "If-None-Match", etag).assertStatusCode(304);
    assertEquals(etag, header(again, "ETag"));
    assertEquals("no-cache", header(again, "Cache-Control"), "a 304 keeps the caching headers");
    assertEquals(0, again.entityBytes().size());
    get(route, "/", "If-None-Match", "\"another\"").assertStatusCode(200);
    // If-Match guards writes: a file has none to guard, so it is served (not a 412)
    get(route, "/", "If-Match", "\"another\"").assertStatusCode(200);
  }

  @Test
  void shouldServeTheBoardsFilesWithTheirTypesAndRevalidation() {
    TestRouteResult js = get(route, "/board/main.js").assertStatusCode(200);
    assertEquals("text/javascript; charset=UTF-8", js.contentTypeString());
    assertEquals("no-cache", header(js, "Cache-Control"));
    assertEquals("text/css; charset=UTF-8", get(route, "/board/board.css").contentTypeString());
    assertEquals("image/svg+xml", get(route, "/board/favicon.svg").contentTypeString());
  }

  @Test
  void shouldServeEChartsGzippedToThoseWhoAcceptItAsAnotherRepresentation() {
    String file = "/webjars/echarts/5.5.0/echarts.esm.min.js";
    TestRouteResult plain = get(route, file).assertStatusCode(200);
    TestRouteResult zipped = get(route, file, "Accept-Encoding", "gzip, br").assertStatusCode(200);
    TestRouteResult refused = get(route, file, "Accept-Encoding", "gzip;q=0, br");
    assertEquals("public, max-age=31536000, immutable", header(zipped, "Cache-Control"));
    assertEquals("gzip", header(zipped, "Content-Encoding"));
    assertEquals("Accept-Encoding", header(zipped, "Vary"));
    assertEquals("Accept-Encoding", header(plain, "Vary"));
    assertNull(header(plain, "Content-Encoding"));
    assertNull(header(refused, "Content-Encoding"));
    assertTrue(
        zipped.entityBytes().size() * 2 < plain.entityBytes().size(),
        zipped.entityBytes().size() + " vs " + plain.entityBytes().size());
    assertNotEquals(header(plain, "ETag"), header(zipped, "ETag"));
    // each representation is revalidated against its own tag
    get(route, file, "Accept-Encoding", "gzip", "If-None-Match", header(zipped, "ETag"))
        .assertStatusCode(304);
    get(route, file, "If-None-Match", header(zipped, "ETag")).assertStatusCode(200);
  }

  @Test
  void shouldAnswerEveryOtherNameWith404AndOtherMethodsWith405() {
    for (String path :
        List.of(
            "/board/nope.js",
            "/board/.hidden.js",
            "/board/application.conf",
            "/board/index.html%00.js",
            "/board/..%2Fopenapi.json",
            "/webjars/echarts/9.9.9/echarts.min.js",
            "/webjars/echarts/5.5.0/pom.properties",
            "/webjars/echarts/5.5.0/..%2F..%2F..%2Fmaven%2Forg.webjars%2Fecharts%2Fpom.xml",
            "/index.html")) {
      get(route, path).assertStatusCode(404).assertMediaType("application/problem+json");
    }
    route.run(HttpRequest.POST("/")).assertStatusCode(405);
  }

  /**
   * What a client sends is not always what a route test builds: on a real server, dot segments are
   * resolved by the URI rules (RFC 3986) before routing, and encoded slashes and a NUL stay inside
   * their segment.
   */
  @Test
  void shouldResolveDotSegmentsAndRefuseEncodedTraversalOnARealServer() throws Exception {
    ServerBinding binding =
        Http.get(system())
            .newServerAt("127.0.0.1", 0)
            .bind(api.route())
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    try {
      StaticFiles files = new StaticFiles(binding.localAddress().getPort());
      String etag = files.get("/", "").header("ETag");
      for (String path : List.of("/board/..", "/board/%2e%2e", "/board/%2E%2E/")) {
        StaticFiles.Response r = files.get(path, "");
        assertEquals(etag, r.header("ETag"), path + " -> " + r);
      }
      for (String path :
          List.of(
              "/board/..%2Fopenapi.json",
              "/board/../openapi.json",
              "/board/index.html%00.js",
              "/webjars/echarts/5.5.0/..%2F..%2F..%2Fmaven%2Forg.webjars%2Fecharts%2Fpom.xml",
              "/webjars/echarts/../../../application.conf")) {
        StaticFiles.Response r = files.get(path, "");
        assertEquals(404, r.status(), path + " -> " + r);
        assertEquals("application/problem+json", r.header("Content-Type"), path);
      }
      assertEquals(405, files.request("POST", "/", "Content-Length: 0\r\n").status());
    } finally {
      binding.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
