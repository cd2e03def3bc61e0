package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.surplus.market.bids.BidRequest;
import io.surplus.market.bids.BidRoutes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document served at /v1/openapi.json is the one in the repo, documents exactly the
 * routes the service has, and every documented path and method answers (no "no route" 404, no 405).
 */
class OpenApiTest {

  @Test
  void shouldDocumentEveryRouteAndEveryDocumentedPathShouldAnswer() throws Exception {
    TestService service = TestService.start("oapi" + System.nanoTime() % 1_000_000);
    try {
      TestService.Reply doc = service.get("/v1/openapi.json", null);
      assertEquals(200, doc.status());
      JsonNode paths = doc.json().get("paths");
      TreeSet<String> documented = new TreeSet<>();
      Iterator<Map.Entry<String, JsonNode>> it = paths.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> p = it.next();
        p.getValue()
            .fieldNames()
            .forEachRemaining(m -> documented.add(m.toUpperCase(Locale.ROOT) + " " + p.getKey()));
      }
      assertEquals(new TreeSet<>(service.service().api().routeKeys()), documented);

      String admin = service.account(61, Role.ADMIN, 0);
      String bidder = service.account(62, Role.BIDDER, 1_000_000_000L);
      String provider = service.account(63, Role.PROVIDER, 0);
      List<String> unanswered = new ArrayList<>();
      for (String route : documented) {
        String method = route.substring(0, route.indexOf(' '));
        String path =
            route
                .substring(route.indexOf(' ') + 1)
                .replace("{gpuModel}", "H100-SXM-80GB")
                .replace("{id}", "bid_62_1")
                .replace("{n}", "1")
                .replace("{asset}", "main.js")
                .replace("{version}", "0")
                .replace("{file}", "echarts.min.js");
        String key =
            path.startsWith("/v1/windows")
                ? provider
                : path.startsWith("/v1/accounts") ? admin : bidder;
        String body = method.equals("POST") ? "{}" : null;
        TestService.Reply r = service.send(method, path, key, "oapi-" + route, body);
        if (r.status() == 405 || r.body().contains("no route for")) {
          unanswered.add(route + " -> " + r);
        }
        assertFalse(r.status() >= 500, route + " -> " + r);
      }
      assertEquals(List.of(), unanswered);
    } finally {
      service.close();
    }
  }

  /** The bid's request and document schemas name every field the service reads and writes. */
  @Test
  void shouldListEveryFieldOfABidAndItsRequest() throws Exception {
    JsonNode schemas;
    try (var in = OpenApiTest.class.getResourceAsStream("/openapi.json")) {
      schemas = new ObjectMapper().readTree(in).path("components").path("schemas");
    }
    assertEquals(fields(BidRequest.class), documented(schemas.path("BidRequest")));
    assertEquals(fields(BidRoutes.BidView.class), documented(schemas.path("Bid")));
  }

  private static TreeSet<String> fields(Class<? extends Record> type) {
    TreeSet<String> names = new TreeSet<>();
    Arrays.stream(type.getRecordComponents()).forEach(c -> names.add(c.getName()));
    return names;
  }

  private static TreeSet<String> documented(JsonNode schema) {
    TreeSet<String> names = new TreeSet<>();
    schema.path("properties").fieldNames().forEachRemaining(names::add);
    return names;
  }
}
