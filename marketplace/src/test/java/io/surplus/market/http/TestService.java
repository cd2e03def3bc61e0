package io.surplus.market.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.ApiKeys;
import io.surplus.market.app.SurplusService;
import io.surplus.market.cassandra.TestCassandra;
import io.surplus.market.settings.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The whole service in this JVM against the test run's Cassandra node, on a free port, in keyspaces
 * of its own (so tests never see each other's markets, accounts or projections). {@link #restart}
 * stops the actor system and starts a new one on the same keyspaces.
 */
public final class TestService implements AutoCloseable {

  public static final Duration WAIT = Duration.ofSeconds(60);

  public final String name;
  private final Config config;
  private ActorSystem<Void> system;
  private SurplusService service;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private TestService(String name, Config config) {
    this.name = name;
    this.config = config;
  }

  /** Config for a service whose keyspaces are named after {@code name}. */
  public static Config config(String name, String extra) {
    return ConfigFactory.parseString(
            extra
                + "\n"
                + """
                surplus.http.port = 0
                surplus.stream.market-data-port = 0
                surplus.epoch-interval = 300ms
                surplus.pending-grace = 4s
                pekko.remote.artery.canonical.port = 0
                pekko.persistence.cassandra.journal.keyspace = j_%1$s
                pekko.persistence.cassandra.snapshot.keyspace = s_%1$s
                surplus.read-side.keyspace = r_%1$s
                # application.conf's list is resolved already, from the default keyspaces
                datastax-java-driver.advanced.metadata.schema.refreshed-keyspaces = [j_%1$s, s_%1$s, r_%1$s]
                """
                    .formatted(name))
        .withFallback(ConfigFactory.load())
        .resolve();
  }

  public static TestService start(String name) {
    return start(name, "");
  }

  public static TestService start(String name, String extraConfig) {
    TestCassandra.node();
    TestService s = new TestService(name, config(name, extraConfig));
    s.boot();
    return s;
  }

  private void boot() {
    boot(config);
  }

  private void boot(Config config) {
    if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
      throw new IllegalStateException(
          "the common pool's parallelism is below 2: every async stage would start a thread"
              + " (see SurplusMain.COMMON_POOL_PARALLELISM)");
    }
    system = ActorSystem.create(Behaviors.empty(), "surplus-" + name, config);
    try {
      service =
          SurplusService.start(system, Settings.from(config))
              .toCompletableFuture()
              .get(180, TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("service did not start", e);
    }
    // ready, and every market's view published: public reads answer from here on
    await(() -> get("/health/ready", null), r -> r.status() == 200);
    await(() -> get("/v1/markets", null), r -> r.status() == 200);
  }

  public void restart() {
    stop();
    boot();
  }

  /**
   * Stops the service and starts it again on the same HTTP port, so a client that keeps the address
   * (the board in a browser) can reconnect. Retries the bind for a while in case the port is slow
   * to come free.
   */
  public void restartOnSamePort() {
    int port = service.port();
    stop();
    Config samePort =
        ConfigFactory.parseString("surplus.http.port = " + port).withFallback(config).resolve();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        boot(samePort);
        return;
      } catch (IllegalStateException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  public void stop() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("actor system did not stop", e);
    }
  }

  @Override
  public void close() {
    stop();
  }

  public SurplusService service() {
    return service;
  }

  public ActorSystem<?> system() {
    return system;
  }

  public Settings settings() {
    return service.settings();
  }

  public String base() {
    return "http://127.0.0.1:" + service.port();
  }

  /**
   * Keeps {@code models} clearing an epoch per epoch interval until closed. A market skips an epoch
   * with nothing new to try, so a test that needs a steady run of epochs gets one change per
   * interval: a one-node window from {@code providerKey}, 300 slots out, past every test bid's
   * range, so no bid's reason or fill changes. This paces a load; it synchronizes nothing (tests
   * still wait on the epochs they receive).
   */
  public AutoCloseable keepClearing(String providerKey, java.util.List<String> models) {
    java.util.concurrent.ScheduledExecutorService pace =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    java.util.concurrent.atomic.AtomicLong n = new java.util.concurrent.atomic.AtomicLong();
    long interval = config.getDuration("surplus.epoch-interval").toMillis();
    pace.scheduleAtFixedRate(
        () -> {
          long i = n.incrementAndGet();
          for (String model : models) {
            post(
                "/v1/windows",
                providerKey,
                "keep-clearing-" + i + "-" + model,
                Bodies.window(model, 1, 300, 301, "9.00"));
          }
        },
        0,
        interval,
        TimeUnit.MILLISECONDS);
    return () -> {
      pace.shutdownNow();
      pace.awaitTermination(10, TimeUnit.SECONDS);
    };
  }

  /** Creates an account straight through its entity and returns its API key. */
  public String account(long id, Role role, long creditMicros) {
    String key = ApiKeys.generate(id);
    // the key index is on the read side's session, which may reconnect after a Cassandra outage
    // later than the journal's: retry it as the routes' 503 would tell a client to
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        service.keyIndex().register(ApiKeys.hash(key), id).toCompletableFuture().join();
        break;
      } catch (java.util.concurrent.CompletionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        try {
          Thread.sleep(200); // polling against the deadline above, as await does
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
    Account.Created c =
        Account.create(
                system,
                id,
                role,
                "test " + id,
                creditMicros,
                ApiKeys.hash(key),
                Long.MAX_VALUE,
                WAIT)
            .toCompletableFuture()
            .join();
    if (!c.created()) {
      throw new IllegalStateException("account " + id + " exists");
    }
    return key;
  }

  /** A response: status, headers and body parsed as JSON when it is JSON. */
  public record Reply(int status, Map<String, java.util.List<String>> headers, String body) {
    public JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }

    public String header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(e -> e.getValue().get(0))
          .findFirst()
          .orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + body;
    }
  }

  public Reply send(String method, String path, String key, String idempotencyKey, String body) {
    return sendTo(base(), method, path, key, idempotencyKey, body);
  }

  /** As {@link #send}, to the server at {@code base} (the market-data port's, say). */
  public Reply sendTo(
      String base, String method, String path, String key, String idempotencyKey, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() >= 500 && r.statusCode() != 503) {
        // no request in the suite may ever get a 500: fail the test that sent it
        throw new AssertionError(method + " " + path + " got " + r.statusCode() + ": " + r.body());
      }
      return new Reply(r.statusCode(), r.headers().map(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Calls until the reply is as wanted, every 200 ms, for at most {@link #WAIT}. */
  public static Reply await(
      java.util.function.Supplier<Reply> call, java.util.function.Predicate<Reply> done) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Reply r = call.get();
    while (!done.test(r)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gave up waiting; last reply: " + r);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      r = call.get();
    }
    return r;
  }

  /**
   * A public market view ({@code /v1/markets/{m}/book} or {@code /windows}) made after every write
   * this test has seen answered: views are published per epoch interval, so a read straight after a
   * write waits for the first view whose {@code asOf} is later than now.
   */
  public Reply view(String path) {
    long since = System.currentTimeMillis();
    return await(
        () -> get(path, null),
        r ->
            r.status() == 200
                && java.time.Instant.parse(r.json().get("asOf").asText()).toEpochMilli() > since);
  }

  public Reply get(String path, String key) {
    return send("GET", path, key, null, null);
  }

  public Reply post(String path, String key, String idempotencyKey, String body) {
    return send("POST", path, key, idempotencyKey, body);
  }

  public Reply delete(String path, String key) {
    return send("DELETE", path, key, null, null);
  }
}
