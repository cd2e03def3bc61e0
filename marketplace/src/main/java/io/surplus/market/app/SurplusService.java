package io.surplus.market.app;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.AccountEpochs;
import io.surplus.market.accounts.AccountRoutes;
import io.surplus.market.accounts.ApiKeys;
import io.surplus.market.bids.BidRoutes;
import io.surplus.market.board.BoardRoutes;
import io.surplus.market.feed.FeedRoutes;
import io.surplus.market.http.Api;
import io.surplus.market.http.Problem;
import io.surplus.market.markets.MarketGate;
import io.surplus.market.markets.MarketRoutes;
import io.surplus.market.readside.ReadSide;
import io.surplus.market.readside.ReadSideRoutes;
import io.surplus.market.readside.ReadSideSettings;
import io.surplus.market.stream.StreamRoutes;
import io.surplus.market.webhooks.WebhookNotices;
import io.surplus.market.webhooks.WebhookRoutes;
import io.surplus.market.webhooks.WebhookSender;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * The marketplace on one node: markets and accounts as sharded entities, the projections that feed
 * accounts and the read side, and the HTTP API. Every node of a cluster runs the same.
 */
public final class SurplusService {

  /** Most authenticated keys remembered; the cache is cleared past it. */
  static final int AUTH_CACHE_SIZE = 100_000;

  private final ActorSystem<?> system;
  private final Settings settings;
  private final ServerBinding binding;
  private final Api api;

  private SurplusService(ActorSystem<?> system, Settings settings, ServerBinding binding, Api api) {
    this.system = system;
    this.settings = settings;
    this.binding = binding;
    this.api = api;
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  public Api api() {
    return api;
  }

  public Settings settings() {
    return settings;
  }

  public ActorSystem<?> system() {
    return system;
  }

  /** Joins the cluster (itself, when no seed nodes are configured), starts everything, binds. */
  public static CompletionStage<SurplusService> start(ActorSystem<?> system, Settings settings) {
    Cluster cluster = Cluster.get(system);
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MarketGate.init(
        system, settings.clock(), settings.pricing(), settings.epochInterval(), metrics);
    MarketGate.wake(system, settings.markets().keySet());
    Account.init(system, settings.billingInterval(), settings.pendingGrace());
    new JvmMemoryMetrics().bindTo(metrics);
    new JvmGcMetrics().bindTo(metrics);
    new JvmThreadMetrics().bindTo(metrics);

    return retry(system, "the read side", () -> ReadSide.start(system, settings.clock()))
        .thenCombine(
            retry(
                system,
                "the account projection",
                () -> AccountEpochs.init(system, settings.clock(), settings.askTimeout())),
            (readSide, done) -> readSide)
        .thenCompose(
            readSide ->
                webhookSender(system)
                    .thenApply(
                        sender -> {
                          WebhookNotices.init(system, sender, settings.askTimeout());
                          return new Object[] {readSide, sender};
                        }))
        .thenCompose(
            started -> {
              ReadSide readSide = (ReadSide) started[0];
              WebhookSender sender = (WebhookSender) started[1];
              Api.Authenticator auth = authenticator(system, settings.askTimeout());
              List<Api.Endpoint> endpoints = new ArrayList<>();
              endpoints.addAll(new BidRoutes(system, settings).endpoints());
              endpoints.addAll(new MarketRoutes(system, settings).endpoints());
              endpoints.addAll(new ReadSideRoutes(settings, readSide).endpoints());
              endpoints.addAll(new AccountRoutes(system, settings).endpoints());
              endpoints.addAll(new StreamRoutes(system, settings, auth).endpoints());
              endpoints.addAll(new FeedRoutes(system, settings).endpoints());
              endpoints.addAll(new WebhookRoutes(system, settings, sender).endpoints());
              endpoints.addAll(new OpsRoutes(system, settings, metrics).endpoints());
              endpoints.addAll(new BoardRoutes().endpoints());
              Api api = new Api(system, endpoints, auth, metrics);
              return Http.get(system)
                  .newServerAt(settings.httpHost(), settings.httpPort())
                  .bind(api::apply)
                  .thenApply(
                      b -> {
                        b.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
                        system
                            .log()
                            .info(
                                "Surplus listening on http://{}:{}",
                                settings.httpHost(),
                                b.localAddress().getPort());
                        return new SurplusService(system, settings, b, api);
                      });
            });
  }

  /** The webhook sender on the read side's session and keyspace (its delivery log lives there). */
  static CompletionStage<WebhookSender> webhookSender(ActorSystem<?> system) {
    ReadSideSettings rs = ReadSideSettings.from(system.settings().config());
    return CassandraSessionRegistry.get(system)
        .sessionFor(rs.sessionConfigPath())
        .underlying()
        .thenApply(session -> new WebhookSender(system, session, rs.keyspace()));
  }

  /** Attempts of each start-up step (schema, offset tables) before the start fails. */
  static final int START_ATTEMPTS = 5;

  /**
   * Runs a start-up step again after a failure (DDL on a busy node can time out), up to {@link
   * #START_ATTEMPTS} times, two seconds apart.
   */
  static <T> CompletionStage<T> retry(
      ActorSystem<?> system, String what, java.util.concurrent.Callable<CompletionStage<T>> step) {
    return org.apache.pekko.pattern.Patterns.retry(
        () ->
            step.call()
                .whenComplete(
                    (v, t) -> {
                      if (t != null) {
                        system.log().warn("starting {} failed, will retry: {}", what, t.toString());
                      }
                    }),
        START_ATTEMPTS,
        Duration.ofSeconds(2),
        system.classicSystem().scheduler(),
        system.executionContext());
  }

  /** Keys resolve through their account's entity; verified keys are cached by hash. */
  static Api.Authenticator authenticator(ActorSystem<?> system, Duration timeout) {
    ClusterSharding sharding = ClusterSharding.get(system);
    ConcurrentHashMap<String, Account.Principal> cache = new ConcurrentHashMap<>();
    return key -> {
      long account = ApiKeys.accountOf(key);
      if (account < 0) {
        return CompletableFuture.failedFuture(
            Problem.unauthorized("the API key is not valid").failure());
      }
      String hash = ApiKeys.hash(key);
      Account.Principal known = cache.get(hash);
      if (known != null) {
        return CompletableFuture.completedFuture(known);
      }
      return sharding
          .entityRefFor(Account.ENTITY_KEY, Long.toString(account))
          .<Account.Principal>ask(r -> new Account.Authenticate(hash, r), timeout)
          .thenApply(
              p -> {
                if (!p.known()) {
                  throw Problem.unauthorized("the API key is not valid").failure();
                }
                if (cache.size() >= AUTH_CACHE_SIZE) {
                  cache.clear();
                }
                cache.put(hash, p);
                return p;
              });
    };
  }
}
