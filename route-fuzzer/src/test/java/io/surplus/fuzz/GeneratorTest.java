package io.surplus.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.fuzz.Exchange.Answer;
import io.surplus.fuzz.Exchange.Request;
import io.surplus.fuzz.OpenApi.Operation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GeneratorTest {

  static final String DOC =
      """
      {"openapi":"3.0.3","paths":{
        "/v1/bids":{"post":{"x-roles":["bidder"],
          "parameters":[{"name":"Idempotency-Key","in":"header","required":true,"schema":{"type":"string"}}],
          "requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/BidRequest"}}}}}},
        "/v1/bids/{id}":{"get":{"x-roles":["bidder"],
          "parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}]}},
        "/v1/markets":{"get":{}}},
       "components":{"schemas":{"BidRequest":{"type":"object","required":["gpuModel","nodes"],
         "properties":{"gpuModel":{"type":"string"},"nodes":{"type":"integer","minimum":1,"maximum":1024},
           "latestEnd":{"type":"string","format":"date-time"}}}}}}
      """;

  static final Instant NOW = Instant.parse("2026-01-05T10:00:00Z");

  static World world() {
    World w = new World();
    w.markets.add(new World.Market("H100-SXM-80GB", 8));
    w.regions.add("us-east");
    w.clock = java.time.Clock.fixed(NOW, java.time.ZoneOffset.UTC);
    w.horizonEnd = NOW.plusSeconds(7 * 86_400L);
    w.addAccount(new World.Account("sk_7_secret", "bidder", 7));
    return w;
  }

  static List<Operation> ops() throws Exception {
    return OpenApi.operations(Exchange.MAPPER.readTree(DOC));
  }

  @Test
  void shouldReadEveryOperationWithItsRolesAndResolvedBody() throws Exception {
    List<Operation> ops = ops();
    assertEquals(3, ops.size());
    Operation post = ops.get(0);
    assertEquals("POST /v1/bids", post.label());
    assertEquals(Set.of("bidder"), post.roles());
    assertEquals(
        "integer", post.bodySchema().path("properties").path("nodes").path("type").asText());
    assertTrue(!ops.get(2).secured());
  }

  @Test
  void shouldMakeTheSameRequestFromTheSameSeedAndIndex() throws Exception {
    for (long i = 0; i < 300; i++) {
      Request a = new Generator(world(), 42, ops()).next(i);
      Request b = new Generator(world(), 42, ops()).next(i);
      assertEquals(
          a.method() + a.pathAndQuery() + a.inputClass(),
          b.method() + b.pathAndQuery() + b.inputClass());
      assertArrayEquals(a.body(), b.body());
    }
  }

  @Test
  void shouldTryEveryOperationAndManyInputClasses() throws Exception {
    Generator g = new Generator(world(), 1, ops());
    Set<String> routes = new HashSet<>();
    Set<String> classes = new HashSet<>();
    for (long i = 0; i < 2_000; i++) {
      Request r = g.next(i);
      routes.add(r.route());
      classes.add(r.inputClass());
    }
    assertEquals(3, routes.size());
    assertTrue(classes.contains("valid"));
    assertTrue(
        classes.stream().anyMatch(c -> c.contains("field.latestEnd=year-3100")),
        classes.toString());
    assertTrue(classes.stream().anyMatch(c -> c.contains("field.nodes=digits-1200")));
    assertTrue(classes.stream().anyMatch(c -> c.startsWith("content-type=")));
    assertTrue(classes.stream().anyMatch(c -> c.startsWith("auth=")));
  }

  @Test
  void shouldHoldAFarFutureEndToBeRefusedAndAValidBidNot() throws Exception {
    Generator g = new Generator(world(), 3, ops());
    Answer created =
        new Answer(201, Map.of(), "{\"id\":\"bid_7_1\"}".getBytes(StandardCharsets.UTF_8), 1, null);
    boolean sawRefusal = false;
    boolean sawValid = false;
    for (long i = 0; i < 3_000; i += 3) {
      Request r = g.next(i);
      if (!r.route().equals("POST /v1/bids")) {
        continue;
      }
      String wrong = r.oracle().check(created);
      if (r.inputClass().equals("field.latestEnd=year-3100")) {
        assertNotNull(wrong);
        sawRefusal = true;
      }
      if (r.inputClass().equals("valid")) {
        assertNull(wrong);
        JsonNode body = Exchange.MAPPER.readTree(r.body());
        assertEquals("H100-SXM-80GB", body.path("gpuModel").asText());
        sawValid = true;
      }
    }
    assertTrue(sawRefusal && sawValid);
  }

  @Test
  void shouldQuoteAReproductionForTheShell() {
    Request r =
        new Request(
            1,
            "POST /v1/bids",
            "POST",
            "/v1/bids",
            List.<String[]>of(new String[] {"Idempotency-Key", "it's"}),
            "{\"a\":\"b'c\"}".getBytes(StandardCharsets.UTF_8),
            "bidder",
            "valid",
            a -> null,
            a -> {},
            List.of());
    String curl = Curl.of(java.net.URI.create("http://h:1"), r, Path.of("target"));
    assertEquals(
        "curl -sS -i --max-time 60 -X 'POST' 'http://h:1/v1/bids' -H 'Idempotency-Key: it'\\''s'"
            + " -H 'Content-Type:' --data-binary '{\"a\":\"b'\\''c\"}'",
        curl);
  }

  @Test
  void shouldKnowAProblemDocument() {
    Map<String, List<String>> json = Map.of("Content-Type", List.of("application/problem+json"));
    byte[] ok = "{\"type\":\"t\",\"title\":\"T\",\"status\":404}".getBytes(StandardCharsets.UTF_8);
    assertNull(RouteFuzzer.problemDocument(new Answer(404, json, ok, 1, null)));
    assertNotNull(RouteFuzzer.problemDocument(new Answer(400, json, ok, 1, null)));
    Map<String, List<String>> text = Map.of("Content-Type", List.of("text/plain"));
    assertNotNull(RouteFuzzer.problemDocument(new Answer(404, text, ok, 1, null)));
  }
}
