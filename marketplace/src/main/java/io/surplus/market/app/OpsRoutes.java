package io.surplus.market.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSession;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Operations: liveness, readiness (Cassandra answers and this node is an Up cluster member, so its
 * shards can start), Prometheus metrics, and the OpenAPI document kept in the repo.
 */
public final class OpsRoutes {

  /** The OpenAPI document on the class path (and in the repo). */
  public static final String OPENAPI_RESOURCE = "/openapi.json";

  private final ActorSystem<?> system;
  private final PrometheusMeterRegistry metrics;
  private final CassandraSession session;
  private final byte[] openApi;

  public OpsRoutes(ActorSystem<?> system, PrometheusMeterRegistry metrics) {
    this.system = system;
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
    return session
        .selectOne("SELECT release_version FROM system.local")
        .toCompletableFuture()
        .orTimeout(Duration.ofSeconds(2).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .handle(
            (row, failure) -> {
              boolean cassandra = failure == null && row.isPresent();
              Map<String, Object> body =
                  Map.of(
                      "status", cassandra && up ? "ready" : "not-ready",
                      "cassandra", cassandra ? "up" : "down",
                      "cluster", up ? "up" : "joining");
              return Api.json(cassandra && up ? 200 : 503, body);
            });
  }

  private CompletionStage<HttpResponse> scrape(Call call) {
    return CompletableFuture.completedFuture(
        HttpResponse.create()
            .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.scrape())));
  }
}
