package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.surplus.market.http.Api.Endpoint;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.testkit.TestRoute;
import org.apache.pekko.http.javadsl.testkit.TestRouteResult;
import org.apache.pekko.pattern.AskTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The endpoint table as a route of the routing DSL, run with the route test kit and no server or
 * Cassandra: path templates and their parameters, 404 and 405 (with {@code Allow}), keys and roles,
 * media types and body limits, and every failure as a problem document. The features' own routes
 * are tested against the whole service (BadInputTest, HygieneTest, ...): this is the layer under
 * them.
 */
class ApiRouteTest extends RouteTests {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Set<Role> BIDDER = Set.of(Role.BIDDER);

  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  final Api api =
      new Api(
          Adapter.toTyped(system()),
          List.of(
              Endpoint.of("GET", "/v1/things", Set.of(), c -> Api.ok(Map.of("things", 1))),
              Endpoint.of(
                  "POST",
                  "/v1/things",
                  BIDDER,
                  c ->
                      CompletableFuture.completedFuture(
                          Api.json(
                              201,
                              Map.of(
                                  "body",
                                  c.body(),
                                  "account",
                                  c.principal().account(),
                                  "key",
                                  c.idempotencyKey())))),
              Endpoint.of("POST", "/v1/things/preview", BIDDER, c -> Api.ok(Map.of("preview", 1))),
              Endpoint.of(
                  "GET", "/v1/things/{id}", Set.of(), c -> Api.ok(Map.of("id", c.param("id")))),
              Endpoint.of("DELETE", "/v1/things/{id}", BIDDER, c -> Api.ok(Map.of())),
              Endpoint.of(
                  "GET",
                  "/v1/things/{id}/parts/{n}",
                  Set.of(),
                  c -> Api.ok(Map.of("id", c.param("id"), "n", c.param("n")))),
              Endpoint.of(
                  "GET",
                  "/v1/slow",
                  Set.of(),
                  c -> CompletableFuture.failedFuture(new AskTimeoutException("no answer"))),
              Endpoint.of(
                  "GET",
                  "/v1/broken",
                  Set.of(),
                  c -> {
                    throw new IllegalStateException("a bug");
                  }),
              Endpoint.of(
                  "GET",
                  "/v1/refused",
                  Set.of(),
                  c -> {
                    throw Problem.notFound("no such thing").failure();
                  }),
              Endpoint.of(
                  "GET",
                  "/v1/overflow",
                  Set.of(),
                  c -> {
                    throw new StackOverflowError("deep");
                  }),
              Endpoint.routed(
                  "GET",
                  "/v1/routed",
                  Set.of(),
                  c ->
                      org.apache.pekko.http.javadsl.server.Directives.parameter(
                          "x", x -> org.apache.pekko.http.javadsl.server.Directives.complete(x))),
              Endpoint.of("POST", "/v1/small", BIDDER, c -> Api.ok(Map.of())).withBodyLimit(10)),
          key ->
              switch (key) {
                case "bidder-key" ->
                    CompletableFuture.completedFuture(new Principal(7, Role.BIDDER));
                case "provider-key" ->
                    CompletableFuture.completedFuture(new Principal(8, Role.PROVIDER));
                default ->
                    CompletableFuture.failedFuture(
                        Problem.unauthorized("the API key is not valid").failure());
              },
          metrics);
  final TestRoute route = testRoute(api.route());

  static JsonNode json(TestRouteResult r) {
    try {
      return JSON.readTree(r.entityString());
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + r.entityString(), e);
    }
  }

  /** A problem document of {@code status} and {@code type}; its JSON. */
  static JsonNode problem(TestRouteResult r, int status, String type) {
    r.assertStatusCode(status).assertMediaType("application/problem+json");
    JsonNode p = json(r);
    assertEquals(Problem.BASE + type, p.get("type").asText(), r.entityString());
    assertEquals(status, p.get("status").asInt());
    return p;
  }

  static HttpRequest post(String path, String key, String body) {
    return HttpRequest.POST(path)
        .addHeader(RawHeader.create("Authorization", "Bearer " + key))
        .addHeader(RawHeader.create("Idempotency-Key", "k-1"))
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
  }

  @Test
  void shouldMatchTemplatesAndHandTheirParameters() {
    assertEquals(
        1,
        json(route.run(HttpRequest.GET("/v1/things")).assertStatusCode(200)).get("things").asInt());
    assertEquals(
        "H100-SXM.80GB_x~1",
        json(route.run(HttpRequest.GET("/v1/things/H100-SXM.80GB_x~1"))).get("id").asText());
    // %2D decodes to '-', one of the characters a parameter may hold
    assertEquals("a-b", json(route.run(HttpRequest.GET("/v1/things/a%2Db"))).get("id").asText());
    JsonNode both = json(route.run(HttpRequest.GET("/v1/things/x/parts/3")).assertStatusCode(200));
    assertEquals("x", both.get("id").asText());
    assertEquals("3", both.get("n").asText());
    // a literal segment listed before a parameter wins: preview is not the thing named "preview"
    assertEquals(
        1,
        json(route.run(post("/v1/things/preview", "bidder-key", "{}")).assertStatusCode(200))
            .get("preview")
            .asInt());
    // ... and a method only the parameter's endpoint takes still reaches it
    assertEquals(
        "preview", json(route.run(HttpRequest.GET("/v1/things/preview"))).get("id").asText());
  }

  @Test
  void shouldAnswerAPathNoEndpointHasWith404NamingIt() {
    for (String path :
        List.of("/v1/nothing", "/v1/things/", "/v1/things//parts/1", "/v1/things/x/parts")) {
      JsonNode p = problem(route.run(HttpRequest.GET(path)), 404, "not-found");
      assertTrue(p.get("detail").asText().contains("GET " + path), p.toString());
    }
  }

  /**
   * A parameter holds unreserved characters only, decoded: an encoded slash, space, NUL or a digit
   * of another script (which Long.parseLong would read as ours, an alias of a real id) is no path.
   */
  @Test
  void shouldMatchNoParameterAnEncodingSmugglesIn() {
    for (String path :
        List.of(
            "/v1/things/a%2Fb",
            "/v1/things/a%20b",
            "/v1/things/a%00b",
            "/v1/things/%D9%A1",
            "/v1/things/x/parts/%D9%A1")) {
      problem(route.run(HttpRequest.GET(path)), 404, "not-found");
    }
  }

  @Test
  void shouldAnswerAnotherMethodWith405AndTheAllowedOnes() {
    TestRouteResult r = route.run(HttpRequest.PUT("/v1/things/x"));
    JsonNode p = problem(r, 405, "method-not-allowed");
    r.assertHeaderExists("Allow", "DELETE, GET");
    assertTrue(p.get("detail").asText().endsWith("allowed: [DELETE, GET]"), p.toString());
    // the refusal is counted, under no template
    assertEquals(
        1,
        metrics
            .get("surplus.http.requests")
            .tag("route", "unmatched")
            .tag("status", "405")
            .timer()
            .count());
  }

  @Test
  void shouldAskForAKeyAndHoldEachEndpointToItsRoles() {
    problem(route.run(HttpRequest.DELETE("/v1/things/x")), 401, "unauthorized");
    problem(
        route.run(
            HttpRequest.DELETE("/v1/things/x")
                .addHeader(RawHeader.create("Authorization", "Bearer nope"))),
        401,
        "unauthorized");
    JsonNode p = problem(route.run(post("/v1/things", "provider-key", "{}")), 403, "forbidden");
    assertTrue(
        p.get("detail").asText().contains("a provider key may not call POST /v1/things"),
        p.toString());

    JsonNode made =
        json(route.run(post("/v1/things", "bidder-key", "{\"a\":1}")).assertStatusCode(201));
    assertEquals("{\"a\":1}", made.get("body").asText());
    assertEquals(7, made.get("account").asLong());
    assertEquals("k-1", made.get("key").asText());
    assertEquals(
        1,
        metrics
            .get("surplus.http.requests")
            .tag("route", "/v1/things")
            .tag("status", "201")
            .timer()
            .count());
  }

  @Test
  void shouldRefuseABodyOfAnotherMediaTypeOrPastItsLimit() {
    JsonNode p =
        problem(
            route.run(
                post("/v1/things", "bidder-key", "a=1")
                    .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, "a=1"))),
            415,
            "unsupported-media-type");
    assertTrue(p.get("detail").asText().contains("application/json"), p.toString());
    assertEquals("Content-Type", p.get("field").asText());
    problem(
        route.run(post("/v1/small", "bidder-key", "{\"a\":\"0123456789\"}")),
        413,
        "body-too-large");
    route.run(post("/v1/small", "bidder-key", "{}")).assertStatusCode(200);
  }

  @Test
  void shouldTurnEveryFailureIntoAProblemDocument() {
    TestRouteResult slow = route.run(HttpRequest.GET("/v1/slow"));
    problem(slow, 503, "unavailable");
    slow.assertHeaderExists("Retry-After", Integer.toString(Api.RETRY_AFTER_SECONDS));
    problem(route.run(HttpRequest.GET("/v1/broken")), 500, "internal");
    // an Error too: the handler runs in a stage, which fails with whatever it throws
    problem(route.run(HttpRequest.GET("/v1/overflow")), 500, "internal");
    // a directive of an endpoint's own route that refuses the request: a 400 naming why
    JsonNode refused = problem(route.run(HttpRequest.GET("/v1/routed")), 400, "bad-request");
    assertTrue(refused.get("detail").asText().contains("x"), refused.toString());
    route.run(HttpRequest.GET("/v1/routed?x=7")).assertStatusCode(200).assertEntity("7");
    JsonNode p = problem(route.run(HttpRequest.GET("/v1/refused")), 404, "not-found");
    assertEquals("no such thing", p.get("detail").asText());
  }
}
