package io.surplus.market.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.markets.MarketGate;
import io.surplus.market.markets.MarketViews;
import io.surplus.market.settings.Settings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Operations: liveness, readiness (Cassandra answers, this node is an Up cluster member so its
 * shards can start, and every market has recovered its book and serves), Prometheus metrics, and
 * the OpenAPI document kept in the repo.
 */
public final class OpsRoutes {

  /** The OpenAPI document on the class path (and in the repo). */
  public static final String OPENAPI_RESOURCE = "/openapi.json";

  private final ActorSystem<?> system;
  private final PrometheusMeterRegistry metrics;
  private final CassandraSession session;
  private final byte[] openApi;

  /** How long readiness waits for a market to say how it is. */
  static final Duration MARKET_HEALTH_TIMEOUT = Duration.ofSeconds(2);

  private final Settings settings;

  private final MarketViews views;

  public OpsRoutes(
      ActorSystem<?> system,
      Settings settings,
      PrometheusMeterRegistry metrics,
      MarketViews views) {
    this.system = system;
    this.settings = settings;
    this.views = views;
    this.metrics = metrics;
    this.session = CassandraSessionRegistry.get(system).sessionFor("pekko.persistence.cassandra");
    this.openApi = openApiBytes();
  }

  public static byte[] openApiBytes() {
    try (InputStream in = OpsRoutes.class.getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(OPENAPI_RESOURCE + " is missing from the class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public List<Endpoint> endpoints() {
    return List.of(
        Endpoint.of("GET", "/health/alive", Set.of(), c -> Api.ok(Map.of("status", "alive"))),
        Endpoint.of("GET", "/health/ready", Set.of(), this::ready),
        Endpoint.of("GET", "/metrics", Set.of(), this::scrape),
        Endpoint.of(
            "GET",
            "/v1/openapi.json",
            Set.of(),
            c ->
                CompletableFuture.completedFuture(
                    HttpResponse.create()
                        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, openApi)))));
  }

  private CompletionStage<HttpResponse> ready(Call call) {
    boolean up = Cluster.get(system).selfMember().status() == MemberStatus.up();
    CompletableFuture<Boolean> cassandra =
        session
            .selectOne("SELECT release_version FROM system.local")
            .toCompletableFuture()
            .orTimeout(Duration.ofSeconds(2).toMillis(), TimeUnit.MILLISECONDS)
            .handle((row, failure) -> failure == null && row.isPresent());
    Map<String, CompletableFuture<Map<String, Object>>> markets = new TreeMap<>();
    if (up) {
      ClusterSharding sharding = ClusterSharding.get(system);
      for (String model : settings.markets().keySet()) {
        markets.put(
            model,
            sharding
                .entityRefFor(MarketGate.ENTITY_KEY, model)
                .<MarketGate.Health>ask(MarketGate.GetHealth::new, MARKET_HEALTH_TIMEOUT)
                .toCompletableFuture()
                .handle((h, failure) -> market(h, failure, views.get(model))));
      }
    }
    return CompletableFuture.allOf(markets.values().toArray(CompletableFuture[]::new))
        .thenCombine(
            cassandra,
            (v, cassandraUp) -> {
              Map<String, Object> byModel = new TreeMap<>();
              boolean marketsUp = up;
              for (Map.Entry<String, CompletableFuture<Map<String, Object>>> e :
                  markets.entrySet()) {
                Map<String, Object> m = e.getValue().join();
                byModel.put(e.getKey(), m);
                marketsUp &= MarketGate.UP.equals(m.get("status")) && m.containsKey("view");
              }
              boolean ready = cassandraUp && up && marketsUp;
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("status", ready ? "ready" : "not-ready");
              body.put("cassandra", cassandraUp ? "up" : "down");
              body.put("cluster", up ? "up" : "joining");
              body.put("markets", byModel);
              return Api.json(ready ? 200 : 503, body);
            });
  }

  /**
   * One market's part of the readiness document: its health, and as of when this node's view of it
   * is (absent until the market has published one: public reads of it answer 503 until then).
   */
  private static Map<String, Object> market(
      MarketGate.Health h, Throwable failure, MarketViews.Rendered view) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (failure != null) {
      m.put("status", "unresponsive");
    } else {
      m.put("status", h.status());
      m.put("restarts", h.restarts());
      m.put("since", Instant.ofEpochMilli(h.sinceMillis()).toString());
      m.put("node", h.node());
    }
    if (view != null) {
      m.put("view", Instant.ofEpochMilli(view.atMillis()).toString());
    }
    return m;
  }

  private CompletionStage<HttpResponse> scrape(Call call) {
    return CompletableFuture.completedFuture(
        HttpResponse.create()
            .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape())));
  }
}
