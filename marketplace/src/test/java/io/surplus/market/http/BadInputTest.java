package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every kind of bad input in DESIGN.md gets its 4xx problem document naming the field, and changes
 * nothing: after each case the bidder has no new bid and no credit reserved.
 */
class BadInputTest {

  static final String H100 = "H100-SXM-80GB";
  static TestService service;
  static String bidder;
  static String otherBidder;
  static String provider;
  static int keys;

  @BeforeAll
  static void start() {
    service = TestService.start("bad" + System.nanoTime() % 1_000_000);
    bidder = service.account(21, Role.BIDDER, 1_000_000_000L);
    otherBidder = service.account(22, Role.BIDDER, 1_000_000_000L);
    provider = service.account(23, Role.PROVIDER, 0);
  }

  @AfterAll
  static void stop() {
    service.close();
  }

  /** Nothing changed: no bid in the account, nothing reserved. */
  @AfterEach
  void nothingChanged() {
    TestService.Reply bids = service.get("/v1/bids", bidder);
    assertEquals(200, bids.status(), bids.body());
    assertEquals(0, bids.json().get("bids").size(), bids.body());
    assertEquals("0.00", service.get("/v1/account", bidder).json().get("reserved").asText());
  }

  static JsonNode problem(TestService.Reply r, int status, String type, String field) {
    assertEquals(status, r.status(), r.body());
    assertEquals("application/problem+json", r.header("Content-Type"));
    JsonNode p = r.json();
    assertEquals(Problem.BASE + type, p.get("type").asText(), r.body());
    assertEquals(status, p.get("status").asInt());
    assertNotNull(p.get("detail"));
    if (field != null) {
      assertEquals(field, p.get("field").asText(), r.body());
    }
    return p;
  }

  static TestService.Reply postBid(String body) {
    return service.post("/v1/bids", bidder, "k" + (++keys), body);
  }

  static String valid() {
    return Bodies.bid(H100, 2, 60, 0, 8, "2.00");
  }

  @Test
  void shouldRefuseMalformedJson() {
    problem(postBid("{\"gpuModel\": \"H100-SXM-80GB\", "), 400, "malformed-json", null);
  }

  @Test
  void shouldRefuseAnUnknownFieldByName() {
    problem(postBid(valid().replace("{", "{\"colour\":\"blue\",")), 400, "unknown-field", "colour");
  }

  @Test
  void shouldRefuseAWrongJsonType() {
    problem(postBid(valid().replace("\"nodes\":2", "\"nodes\":\"2\"")), 400, "wrong-type", "nodes");
  }

  @Test
  void shouldRefuseAnOversizedBody() {
    String huge = valid().replace("}", ",\"pad\":\"" + "x".repeat(70 * 1024) + "\"}");
    problem(postBid(huge), 413, "body-too-large", null);
  }

  @Test
  void shouldRefuseZeroAndNegativeNodes() {
    problem(postBid(valid().replace("\"nodes\":2", "\"nodes\":0")), 422, "invalid-field", "nodes");
    problem(postBid(valid().replace("\"nodes\":2", "\"nodes\":-3")), 422, "invalid-field", "nodes");
  }

  @Test
  void shouldRefuseAPriceWithTooManyDecimals() {
    problem(
        postBid(valid().replace("\"2.00\"", "\"2.0000001\"")), 422, "invalid-field", "limitPrice");
  }

  @Test
  void shouldRefuseAZeroOrNegativePrice() {
    problem(postBid(valid().replace("\"2.00\"", "\"0\"")), 422, "invalid-field", "limitPrice");
    problem(postBid(valid().replace("\"2.00\"", "\"-1.00\"")), 422, "invalid-field", "limitPrice");
  }

  @Test
  void shouldRefuseAWindowInThePast() {
    String body =
        Bodies.bid(H100, 2, 60, 0, 8, "2.00")
            .replaceAll(
                "\"earliestStart\":\"[^\"]+\",\"latestEnd\":\"[^\"]+\"",
                "\"earliestStart\":\"2026-01-01T00:00:00Z\",\"latestEnd\":\"2026-01-02T00:00:00Z\"");
    problem(postBid(body), 422, "invalid-field", "latestEnd");
  }

  @Test
  void shouldRefuseAWindowPastTheHorizon() {
    problem(postBid(Bodies.bid(H100, 2, 60, 0, 1000, "2.00")), 422, "invalid-field", "latestEnd");
  }

  @Test
  void shouldRefuseAnUnknownGpuModel() {
    problem(postBid(Bodies.bid("Z9000-XL", 2, 60, 0, 8, "2.00")), 422, "invalid-field", "gpuModel");
  }

  @Test
  void shouldRefuseAMissingField() {
    problem(
        postBid(valid().replaceAll(",\"limitPrice\":\"[^\"]+\"", "")),
        422,
        "missing-field",
        "limitPrice");
  }

  @Test
  void shouldRefuseAReusedIdempotencyKeyWithAnotherBody() {
    String otherBidder = service.account(24, Role.BIDDER, 1_000_000_000L);
    TestService.Reply first =
        service.post("/v1/bids", otherBidder, "reused", Bodies.bid(H100, 2, 60, 0, 8, "2.00"));
    assertEquals(201, first.status(), first.body());
    TestService.Reply again =
        service.post("/v1/bids", otherBidder, "reused", Bodies.bid(H100, 3, 60, 0, 8, "2.00"));
    problem(again, 422, "idempotency-key-reused", "Idempotency-Key");
    assertEquals(1, service.get("/v1/bids", otherBidder).json().get("bids").size());
  }

  @Test
  void shouldRefuseAWriteWithoutIdempotencyKey() {
    problem(
        service.post("/v1/bids", bidder, null, valid()),
        400,
        "missing-idempotency-key",
        "Idempotency-Key");
  }

  @Test
  void shouldNotLetABidderCancelAnotherAccountsBid() {
    TestService.Reply theirs =
        service.post("/v1/bids", otherBidder, "theirs", Bodies.bid(H100, 1, 60, 0, 8, "1.00"));
    assertEquals(201, theirs.status(), theirs.body());
    String id = theirs.json().get("id").asText();
    problem(service.delete("/v1/bids/" + id, bidder), 404, "not-found", null);
    assertEquals("open", service.get("/v1/bids/" + id, otherBidder).json().get("status").asText());
  }

  @Test
  void shouldRefuseAMissingOrWrongApiKey() {
    problem(service.post("/v1/bids", null, "k-none", valid()), 401, "unauthorized", null);
    problem(
        service.post("/v1/bids", "sk_21_notthekey", "k-wrong", valid()), 401, "unauthorized", null);
    problem(service.post("/v1/bids", "garbage", "k-garbage", valid()), 401, "unauthorized", null);
  }

  @Test
  void shouldRefuseABidderCallingAProviderRoute() {
    problem(
        service.post("/v1/windows", bidder, "w", Bodies.window(H100, 8, 0, 8, "1.00")),
        403,
        "forbidden",
        null);
    problem(service.post("/v1/bids", provider, "p", valid()), 403, "forbidden", null);
  }

  @Test
  void shouldAnswerUnknownRoutesAndMethodsWithProblems() {
    problem(service.get("/v1/nothing-here", bidder), 404, "not-found", null);
    TestService.Reply r = service.send("PUT", "/v1/bids", bidder, null, valid());
    problem(r, 405, "method-not-allowed", null);
    assertTrue(r.header("Allow").contains("POST"));
  }

  @Test
  void shouldRefuseABadBatchItemByIndexAndPlaceTheGoodOnes() {
    String good = Bodies.bid(H100, 1, 60, 0, 8, "0.50");
    String bad = good.replace("\"nodes\":1", "\"nodes\":0");
    TestService.Reply r =
        service.post(
            "/v1/bids/batch", otherBidder, "batch-1", "{\"bids\":[" + good + "," + bad + "]}");
    assertEquals(207, r.status(), r.body());
    JsonNode results = r.json().get("results");
    assertEquals(201, results.get(0).get("status").asInt());
    assertEquals(422, results.get(1).get("status").asInt());
    assertEquals("nodes", results.get(1).get("problem").get("field").asText());
    assertEquals(1, results.get(1).get("problem").get("index").asInt());
  }

  /** {@link #valid()} with {@code json} (one or more fields) added. */
  static String validWith(String json) {
    return valid().replaceFirst("\\}$", "," + json + "}");
  }

  @Test
  void shouldRefuseAMinConfidenceOutOfRangeOrTooFineOrOfTheWrongShape() {
    for (String bad : new String[] {"1.01", "2", "-0.5", "0.1234567", "1.0000001", ".9", "0.9e0"}) {
      problem(
          postBid(validWith("\"minConfidence\":\"" + bad + "\"")),
          422,
          "invalid-field",
          "minConfidence");
    }
    problem(postBid(validWith("\"minConfidence\":0.9")), 400, "wrong-type", "minConfidence");
  }

  @Test
  void shouldRefuseAvoidPoolsTooManyMisnamedOrRepeated() {
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 17; i++) {
      many.append(i == 0 ? "" : ",").append(String.format("\"pool-%06x\"", i));
    }
    problem(
        postBid(validWith("\"avoidPools\":[" + many + "]")), 422, "invalid-field", "avoidPools");
    for (String bad :
        new String[] {"\"ash-h100-a\"", "\"pool-ABCDEF\"", "\"pool-12345\"", "null"}) {
      problem(
          postBid(validWith("\"avoidPools\":[" + bad + "]")), 422, "invalid-field", "avoidPools");
    }
    problem(
        postBid(validWith("\"avoidPools\":[\"pool-00ab12\",\"pool-00ab12\"]")),
        422,
        "invalid-field",
        "avoidPools");
    problem(postBid(validWith("\"avoidPools\":\"pool-00ab12\"")), 400, "wrong-type", "avoidPools");
  }

  @Test
  void shouldRefuseARequeueAvoidsPoolThatIsNotABoolean() {
    problem(
        postBid(validWith("\"requeue\":true,\"requeueAvoidsPool\":\"no\"")),
        400,
        "wrong-type",
        "requeueAvoidsPool");
  }

  @Test
  void shouldRefuseBadSteeringInABatchItemAndInAPreview() {
    String bad = validWith("\"minConfidence\":\"1.5\"");
    TestService.Reply r =
        service.post("/v1/bids/batch", bidder, "batch-steer", "{\"bids\":[" + bad + "]}");
    assertEquals(207, r.status(), r.body());
    JsonNode item = r.json().get("results").get(0);
    assertEquals(422, item.get("status").asInt());
    assertEquals("minConfidence", item.get("problem").get("field").asText());
    problem(
        service.post(
            "/v1/bids/preview",
            bidder,
            null,
            validWith("\"avoidPools\":[\"pool-00ab12\",\"pool-00ab12\"]")),
        422,
        "invalid-field",
        "avoidPools");
  }
}
