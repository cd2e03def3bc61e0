package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.surplus.market.accounts.Account;
import io.surplus.market.webhooks.WebhookSender;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A bidder's webhook receiver (a real HTTP server on loopback) gets a correctly signed preemption
 * notice when an emergency revocation cuts its lease; a receiver that fails is retried until it
 * answers, and every attempt is in the delivery log.
 */
class WebhookTest {

  record Received(String delivery, String signature, String body) {}

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
    TestService service = TestService.start("hook" + System.nanoTime() % 1_000_000);
    try {
      String bidder = service.account(91, Account.Role.BIDDER, 100_000_000_000L);
      String provider = service.account(92, Account.Role.PROVIDER, 0);
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
