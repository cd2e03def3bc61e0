package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.surplus.market.webhooks.WebhookSender;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A bidder's webhook receiver (a real HTTP server on loopback) gets a correctly signed preemption
 * notice when an emergency revocation cuts its lease; a receiver that fails is retried until it
 * answers, and every attempt is in the delivery log. The egress policy refuses URLs that reach
 * internal addresses when they are set, and refuses a delivery whose target the policy no longer
 * allows without connecting to it.
 */
class WebhookTest {

  record Received(String delivery, String signature, String body) {}

  /** What a development service allows: a receiver on loopback, over http, on its port. */
  static String allowLoopback(int port) {
    return "surplus.webhooks.egress { allow-http = true, allow-private = true, allowed-ports = ["
        + port
        + "] }";
  }

  /** Opens a window, fills a bid of {@code bidder} on it, and revokes it: one cut lease. */
  static String fillAndRevoke(TestService service, String bidder, String provider)
      throws Exception {
    String model = "H200-SXM-141GB";
    assertEquals(
        200,
        FeedTestLines.feed(
                service, provider, FeedTestLines.opened(1, "h-1", model, 4, 1, 9, "0.50", 1800))
            .status());
    TestService.Reply bid =
        service.post("/v1/bids", bidder, "b", Bodies.bid(model, 4, 60, 1, 9, "2.00"));
    String bidId = bid.json().get("id").asText();
    BidFlowTest.await(
        () -> service.get("/v1/bids/" + bidId, bidder),
        r -> r.json().get("status").asText().equals("filled"));
    BidFlowTest.await(
        () -> service.get("/v1/account", bidder),
        r -> !r.json().get("leased").asText().equals("0.00"));
    assertEquals(
        200,
        FeedTestLines.feed(
                service, provider, FeedTestLines.revoked(2, "h-1", "emergency", Instant.now(), 4))
            .status());
    return bidId;
  }

  @Test
  void shouldRefuseWebhookUrlsThatReachInternalAddresses() {
    TestService service = TestService.start("hookno" + System.nanoTime() % 1_000_000);
    try {
      String bidder = service.account(93, Role.BIDDER, 1_000_000_000L);
      Map<String, String> refused = new LinkedHashMap<>();
      refused.put("http://169.254.169.254/latest/meta-data/", "scheme");
      refused.put("https://169.254.169.254/latest/meta-data/", "metadata");
      refused.put("https://metadata.google.internal/computeMetadata/v1/", "metadata");
      refused.put("https://METADATA.google.internal./computeMetadata/v1/", "metadata");
      refused.put("https://127.0.0.1:9142/", "port");
      refused.put("https://127.0.0.1:25520/", "port");
      refused.put("https://127.0.0.1/", "loopback");
      refused.put("https://[::1]/", "loopback");
      refused.put("https://[::ffff:127.0.0.1]/", "loopback");
      refused.put("https://[::ffff:a9fe:a9fe]/", "metadata");
      refused.put("https://2130706433/", "loopback");
      refused.put("https://localhost/", "not-public");
      refused.put("https://10.1.2.3/", "private");
      refused.put("https://172.16.0.1/", "private");
      refused.put("https://192.168.1.1/", "private");
      refused.put("https://100.64.0.1/", "shared");
      refused.put("https://[fd00::1]/", "private");
      refused.put("https://[fe80::1]/", "link-local");
      refused.put("https://0.0.0.0/", "unspecified");
      refused.put("https://[::]/", "unspecified");
      refused.put("https://224.0.0.1/", "multicast");
      refused.put("https://user:pass@hooks.example.com/", "credentials");
      refused.put("https://hooks.example.com:99999/", "port");
      refused.put("ftp://hooks.example.com/", "scheme");
      refused.put("/relative", "not-a-url");
      for (Map.Entry<String, String> e : refused.entrySet()) {
        TestService.Reply r =
            service.send(
                "PUT", "/v1/webhook", bidder, null, "{\"url\":" + Json.write(e.getKey()) + "}");
        assertEquals(422, r.status(), e.getKey() + ": " + r.body());
        JsonNode p = r.json();
        assertEquals("url", p.get("field").asText(), r.body());
        assertTrue(
            p.get("detail").asText().endsWith("(rule: " + e.getValue() + ")"),
            e.getKey() + ": " + r.body());
        assertEquals(Api.PROBLEM_JSON.toString(), r.header("Content-Type"), r.body());
      }
      assertEquals(404, service.get("/v1/webhook", bidder).status(), "nothing was set");
      // a public address is taken (nothing is sent to it: no lease is cut)
      TestService.Reply ok =
          service.send("PUT", "/v1/webhook", bidder, null, "{\"url\":\"https://1.1.1.1/hook\"}");
      assertEquals(200, ok.status(), ok.body());
    } finally {
      service.close();
    }
  }

  @Test
  void shouldRefuseADeliveryToAnAddressThePolicyNoLongerAllowsWithoutConnecting() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/hook",
        exchange -> {
          calls.incrementAndGet();
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    receiver.start();
    int port = receiver.getAddress().getPort();
    String name = "hookre" + System.nanoTime() % 1_000_000;
    TestService permissive = TestService.start(name, allowLoopback(port));
    String bidder;
    String provider;
    try {
      bidder = permissive.account(94, Role.BIDDER, 100_000_000_000L);
      provider = permissive.account(95, Role.PROVIDER, 0);
      TestService.Reply hook =
          permissive.send(
              "PUT",
              "/v1/webhook",
              bidder,
              null,
              "{\"url\":\"http://127.0.0.1:" + port + "/hook\"}");
      assertEquals(200, hook.status(), hook.body());
    } finally {
      permissive.close();
    }
    // the same data, now under a policy that refuses loopback: the stored URL is checked again
    String key = bidder;
    TestService service =
        TestService.start(
            name, "surplus.webhooks.egress { allow-http = true, allowed-ports = [" + port + "] }");
    try {
      fillAndRevoke(service, bidder, provider);
      JsonNode log =
          BidFlowTest.await(
                  () -> service.get("/v1/webhook/deliveries", key),
                  r -> r.json().get("deliveries").size() >= 2)
              .json();
      for (JsonNode a : log.get("deliveries")) {
        assertEquals(0, a.get("status").asInt(), log.toString());
        assertEquals(
            "refused by the egress policy: url must not reach a loopback address",
            a.get("error").asText(),
            log.toString());
      }
      assertEquals(0, calls.get(), "a refused delivery never connects");
    } finally {
      service.close();
      receiver.stop(0);
    }
  }

  @Test
  void shouldDeliverASignedNoticeAndRetryAFailingReceiver() throws Exception {
    List<Received> received = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    receiver.createContext(
        "/hook",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          received.add(
              new Received(
                  exchange.getRequestHeaders().getFirst("Surplus-Delivery"),
                  exchange.getRequestHeaders().getFirst("Surplus-Signature"),
                  body));
          // the first two attempts fail
          int status = calls.incrementAndGet() <= 2 ? 500 : 204;
          exchange.sendResponseHeaders(status, -1);
          exchange.close();
        });
    receiver.start();
    TestService service =
        TestService.start(
            "hook" + System.nanoTime() % 1_000_000, allowLoopback(receiver.getAddress().getPort()));
    try {
      String bidder = service.account(91, Role.BIDDER, 100_000_000_000L);
      String provider = service.account(92, Role.PROVIDER, 0);
      TestService.Reply hook =
          service.send(
              "PUT",
              "/v1/webhook",
              bidder,
              null,
              "{\"url\":\"http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook\"}");
      assertEquals(200, hook.status(), hook.body());
      String secret = hook.json().get("secret").asText();

      String model = "H200-SXM-141GB";
      String bidId = fillAndRevoke(service, bidder, provider);

      long deadline = System.nanoTime() + TestService.WAIT.toNanos();
      while (calls.get() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertEquals(3, calls.get(), "two failures, then a success: " + received);
      Received first = received.get(0);
      for (Received r : received) {
        assertEquals(first.delivery(), r.delivery()); // the same notice, retried
        long t = Long.parseLong(r.signature().substring(2, r.signature().indexOf(',')));
        assertEquals(WebhookSender.signature(secret, t, r.body()), r.signature());
      }
      JsonNode notice = Json.MAPPER.readTree(first.body());
      assertEquals("lease.notified", notice.get("type").asText());
      assertEquals(bidId, notice.get("bidId").asText());
      assertEquals("emergency", notice.get("kind").asText());
      assertTrue(notice.get("leaseId").asText().startsWith("lease_" + model + "_"));
      // a wrong secret does not verify
      long t = Long.parseLong(first.signature().substring(2, first.signature().indexOf(',')));
      assertTrue(
          !WebhookSender.signature("whsec_wrong", t, first.body()).equals(first.signature()));

      JsonNode log =
          BidFlowTest.await(
                  () -> service.get("/v1/webhook/deliveries", bidder),
                  r -> r.json().get("deliveries").size() == 3)
              .json();
      int ok = 0;
      for (JsonNode a : log.get("deliveries")) {
        ok += a.get("status").asInt() == 204 ? 1 : 0;
      }
      assertEquals(1, ok, log.toString());
    } finally {
      service.close();
      receiver.stop(0);
    }
  }
}
