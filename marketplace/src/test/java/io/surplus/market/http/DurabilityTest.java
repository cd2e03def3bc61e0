package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.market.cassandra.TestCassandra;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 201 means the bid is in Cassandra: the service runs as its own JVM, takes a burst of bids, and
 * is killed with SIGKILL while more are in flight (no graceful shutdown, nothing flushed). A new
 * service on the same keyspaces finds every acknowledged bid.
 */
class DurabilityTest {

  static final String H100 = "H100-SXM-80GB";

  @TempDir Path var;

  Process service(String name, int port) throws IOException {
    String cp =
        "target/classes:"
            + Files.readString(Path.of(System.getProperty("surplus.service.classpath-file")))
                .strip();
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx512m",
            "-Dsurplus.http.port=" + port,
            "-Dpekko.remote.artery.canonical.port=0",
            "-Ddatastax-java-driver.basic.contact-points.0="
                + System.getProperty("datastax-java-driver.basic.contact-points.0"),
            "-Dpekko.persistence.cassandra.journal.keyspace=j_" + name,
            "-Dpekko.persistence.cassandra.snapshot.keyspace=s_" + name,
            "-Dsurplus.read-side.keyspace=r_" + name,
            "-Dpekko.projection.cassandra.offset-store.keyspace=r_" + name,
            "-cp",
            cp,
            "io.surplus.market.app.SurplusMain",
            "--var",
            var.toString(),
            "--demo-accounts");
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(Path.of("target", "durability-service-" + port + ".log").toFile())
        .start();
  }

  static void awaitReady(HttpClient http, String base, Process p) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (System.nanoTime() < deadline) {
      assertTrue(p.isAlive(), "the service exited");
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(500);
    }
    throw new AssertionError("service not ready in time");
  }

  /**
   * The demo keys, once the service has written them (after readiness, whole: moved into place).
   */
  static Properties keys(Path var) throws Exception {
    Path file = var.resolve("demo-keys.properties");
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.exists(file) && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    Properties keys = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      keys.load(in);
    }
    return keys;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void shouldKeepEveryAcknowledgedBidWhenTheServiceIsKilled() throws Exception {
    TestCassandra.node();
    String name = "dur" + System.nanoTime() % 1_000_000;
    HttpClient http = HttpClient.newHttpClient();
    int port = freePort();
    String base = "http://127.0.0.1:" + port;
    Process first = service(name, port);
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    String key;
    try {
      awaitReady(http, base, first);
      key = keys(var).getProperty("bidder");
      List<CompletableFuture<?>> inFlight = new ArrayList<>();
      java.util.Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
      java.util.concurrent.CountDownLatch firstAcks = new java.util.concurrent.CountDownLatch(100);
      for (int i = 0; i < 600; i++) {
        HttpRequest bid =
            HttpRequest.newBuilder(URI.create(base + "/v1/bids"))
                .header("Authorization", "Bearer " + key)
                .header("Idempotency-Key", "dur-" + i)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        Bodies.bid(H100, 1 + i % 4, 60, 10, 40, "0." + (10 + i % 80))))
                .build();
        inFlight.add(
            http.sendAsync(bid, HttpResponse.BodyHandlers.ofString())
                .thenAccept(
                    r -> {
                      statuses.merge(r.statusCode(), 1, Integer::sum);
                      if (r.statusCode() == 201) {
                        String body = r.body();
                        int at = body.indexOf("\"id\":\"") + 6;
                        acknowledged.add(body.substring(at, body.indexOf('"', at)));
                        firstAcks.countDown();
                      }
                    }));
        if (i % 50 == 49) {
          Thread.sleep(100); // a steady stream rather than one burst
        }
      }
      // kill as soon as 100 are acknowledged, with the rest still in flight
      firstAcks.await(120, java.util.concurrent.TimeUnit.SECONDS);
      first.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
      System.out.println("durability: statuses before the kill " + statuses);
      first.waitFor();
      for (CompletableFuture<?> f : inFlight) {
        f.handle((v, t) -> null).join();
      }
    } finally {
      first.destroyForcibly();
    }
    assertTrue(acknowledged.size() >= 50, "too few bids acknowledged: " + acknowledged.size());

    int port2 = freePort();
    String base2 = "http://127.0.0.1:" + port2;
    Process second = service(name, port2);
    try {
      awaitReady(http, base2, second);
      // every acknowledged bid reads back open; one whose confirmation the kill cut off is
      // confirmed from its market as the account recovers, so allow that a few seconds
      List<String> missing = new ArrayList<>(acknowledged);
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
      while (true) {
        List<String> still = new ArrayList<>();
        for (String entry : missing) {
          String id = entry.split(" ")[0];
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create(base2 + "/v1/bids/" + id))
                      .header("Authorization", "Bearer " + key)
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200 || !r.body().contains("\"status\":\"open\"")) {
            still.add(id + " " + r.statusCode() + " " + r.body());
          }
        }
        missing = still;
        if (missing.isEmpty() || System.nanoTime() > deadline) {
          break;
        }
        Thread.sleep(500);
      }
      assertEquals(List.of(), missing);
    } finally {
      second.destroy();
      second.waitFor();
    }
  }
}
