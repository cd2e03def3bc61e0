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
import io.surplus.market.accounts.KeyIndex;
import io.surplus.market.bids.BidPlacement;
import io.surplus.market.bids.BidRoutes;
import io.surplus.market.board.BoardRoutes;
import io.surplus.market.feed.FeedRoutes;
import io.surplus.market.http.Api;
import io.surplus.market.http.Principal;
import io.surplus.market.http.Problem;
import io.surplus.market.http.PublicGets;
import io.surplus.market.markets.MarketGate;
import io.surplus.market.markets.MarketRoutes;
import io.surplus.market.markets.MarketTopics;
import io.surplus.market.readside.ReadSide;
import io.surplus.market.readside.ReadSideRoutes;
import io.surplus.market.readside.ReadSideSettings;
import io.surplus.market.settings.Settings;
import io.surplus.market.stream.MarketDataServer;
import io.surplus.market.stream.StreamRoutes;
import io.surplus.market.stream.StreamTokens;
import io.surplus.market.webhooks.EgressPolicy;
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
import org.apache.pekko.management.javadsl.PekkoManagement;
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
  private final KeyIndex keyIndex;
  private final MarketDataServer marketData;

  private SurplusService(
      ActorSystem<?> system,
      Settings settings,
      ServerBinding binding,
      Api api,
      KeyIndex keyIndex,
      MarketDataServer marketData) {
    this.system = system;
    this.settings = settings;
    this.binding = binding;
    this.api = api;
    this.keyIndex = keyIndex;
    this.marketData = marketData;
  }

  /** The market-data port ({@code surplus.stream.market-data-port}), or -1 when it is off. */
  public int marketDataPort() {
    return marketData == null ? -1 : marketData.port();
  }

  /** Where every new API key must be registered before its account is created. */
  public KeyIndex keyIndex() {
    return keyIndex;
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
    PauseFence.get(system); // its clock starts now
    return retry(system, "the journal's schema", () -> JournalSchema.create(system))
        .thenCompose(done -> serve(system, settings));
  }

  /** Starts entities, projections and the HTTP server, once the journal's schema is in place. */
  private static CompletionStage<SurplusService> serve(ActorSystem<?> system, Settings settings) {
    EgressPolicy egress = new EgressPolicy(EgressPolicy.Settings.from(system.settings().config()));
    StreamTokens streamTokens = StreamTokens.from(system.settings().config());
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MarketTopics topics = MarketTopics.start(system);
    MarketGate.init(
        system, settings.clock(), settings.pricing(), settings.epochInterval(), topics, metrics);
    MarketGate.wake(system, settings.markets().keySet());
    system
        .scheduler()
        .scheduleAtFixedRate(
            MarketGate.WAKE_INTERVAL,
            MarketGate.WAKE_INTERVAL,
            () -> MarketGate.wake(system, settings.markets().keySet()),
            system.executionContext());
    management(system);
    BidPlacement placement = new BidPlacement(system, settings);
    Account.init(system, settings.billingInterval(), settings.pendingGrace(), placement);
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
                webhookSender(system, egress)
                    .thenCombine(
                        keyIndex(system, settings.askTimeout()),
                        (sender, keys) -> new Object[] {sender, keys})
                    .thenApply(
                        both -> {
                          WebhookSender sender = (WebhookSender) both[0];
                          WebhookNotices.init(system, sender, settings.askTimeout());
                          return new Object[] {readSide, sender, both[1]};
                        }))
        .thenCompose(
            started -> {
              ReadSide readSide = (ReadSide) started[0];
              WebhookSender sender = (WebhookSender) started[1];
              KeyIndex keys = (KeyIndex) started[2];
              backfill(system, keys);
              Api.Authenticator auth = authenticator(system, settings.askTimeout(), keys);
              List<Api.Endpoint> endpoints = new ArrayList<>();
              endpoints.addAll(new BidRoutes(system, settings, placement).endpoints());
              MarketRoutes markets = new MarketRoutes(system, settings, topics);
              endpoints.addAll(markets.endpoints());
              endpoints.addAll(new ReadSideRoutes(settings, readSide).endpoints());
              endpoints.addAll(new AccountRoutes(system, settings, keys).endpoints());
              StreamRoutes stream =
                  new StreamRoutes(
                      system, settings, streamTokens, topics, markets.views(), metrics);
              endpoints.addAll(stream.endpoints());
              endpoints.addAll(new FeedRoutes(system, settings).endpoints());
              endpoints.addAll(new WebhookRoutes(system, settings, sender, egress).endpoints());
              endpoints.addAll(
                  new OpsRoutes(system, settings, metrics, markets.views()).endpoints());
              endpoints.addAll(new BoardRoutes().endpoints());
              Api api = new Api(system, endpoints, auth, metrics);
              MarketDataServer marketData =
                  marketData(
                      system,
                      settings,
                      stream,
                      api.publicGets(t -> t.startsWith("/v1/markets") || t.startsWith("/health/")));
              return Http.get(system)
                  .newServerAt(settings.httpHost(), settings.httpPort())
                  .bind(api.route())
                  .thenApply(
                      b -> {
                        b.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
                        system
                            .log()
                            .info(
                                "Surplus listening on http://{}:{}",
                                settings.httpHost(),
                                b.localAddress().getPort());
                        return new SurplusService(system, settings, b, api, keys, marketData);
                      });
            });
  }

  /**
   * The market-data port, when {@code surplus.stream.market-data-port} is not -1; it closes once
   * the actor system has terminated, after the fan-out has sent its streams their close frames.
   */
  private static MarketDataServer marketData(
      ActorSystem<?> system, Settings settings, StreamRoutes stream, PublicGets reads) {
    var config = system.settings().config();
    int port = config.getInt("surplus.stream.market-data-port");
    if (port < 0) {
      return null;
    }
    try {
      MarketDataServer server =
          MarketDataServer.start(
              stream,
              reads,
              settings.httpHost(),
              port,
              config.getInt("surplus.stream.market-data-send-buffer"),
              config.getInt("surplus.stream.market-data-threads"));
      system.getWhenTerminated().thenRun(server::close);
      system
          .log()
          .info(
              "Market data on ws://{}:{}/v1/stream and http://{}:{}/v1/markets",
              settings.httpHost(),
              server.port(),
              settings.httpHost(),
              server.port());
      return server;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the market-data port", e);
    }
  }

  /**
   * Pekko Management's HTTP endpoint (cluster membership, shards, health), unless {@code
   * surplus.management.enabled} is off; a port already taken only costs a warning.
   */
  static void management(ActorSystem<?> system) {
    if (!system.settings().config().getBoolean("surplus.management.enabled")) {
      return;
    }
    PekkoManagement.get(system)
        .start()
        .whenComplete(
            (uri, t) -> {
              if (t != null) {
                system.log().warn("Pekko Management did not start: {}", t.toString());
              } else {
                system.log().info("Pekko Management at {}", uri);
              }
            });
  }

  /** The webhook sender on the read side's session and keyspace (its delivery log lives there). */
  static CompletionStage<WebhookSender> webhookSender(ActorSystem<?> system, EgressPolicy egress) {
    ReadSideSettings rs = ReadSideSettings.from(system.settings().config());
    return CassandraSessionRegistry.get(system)
        .sessionFor(rs.sessionConfigPath())
        .underlying()
        .thenApply(session -> new WebhookSender(system, session, rs.keyspace(), egress));
  }

  /** The key index on the read side's session and keyspace. */
  static CompletionStage<KeyIndex> keyIndex(ActorSystem<?> system, Duration timeout) {
    ReadSideSettings rs = ReadSideSettings.from(system.settings().config());
    return CassandraSessionRegistry.get(system)
        .sessionFor(rs.sessionConfigPath())
        .underlying()
        .thenApply(session -> new KeyIndex(session, rs.keyspace(), timeout));
  }

  /**
   * Indexes, in the background, the keys of accounts created before the key index existed (see
   * {@link KeyIndex#backfill}); off with {@value KeyIndex#BACKFILL_KEY} once every node has run it.
   */
  static void backfill(ActorSystem<?> system, KeyIndex keys) {
    if (!system.settings().config().getBoolean(KeyIndex.BACKFILL_KEY)) {
      return;
    }
    keys.backfill(system)
        .whenComplete(
            (n, t) -> {
              if (t != null) {
                system
                    .log()
                    .warn("indexing the keys of existing accounts failed: {}", t.toString());
              } else {
                system.log().info("key index: the keys of {} existing accounts are indexed", n);
              }
            });
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

  /**
   * A key is looked up in the {@link KeyIndex} first: one that was never issued gets the same 401
   * whatever account it names, without an entity. A key that is found is checked by its account's
   * entity, the authority on it. Verified keys are cached by hash.
   */
  static Api.Authenticator authenticator(ActorSystem<?> system, Duration timeout, KeyIndex index) {
    ClusterSharding sharding = ClusterSharding.get(system);
    ConcurrentHashMap<String, Principal> cache = new ConcurrentHashMap<>();
    return key -> {
      long account = ApiKeys.accountOf(key);
      if (account < 0) {
        return CompletableFuture.failedFuture(notValid());
      }
      String hash = ApiKeys.hash(key);
      Principal known = cache.get(hash);
      if (known != null) {
        return CompletableFuture.completedFuture(known);
      }
      return index
          .accountOf(hash)
          .exceptionally(
              t -> {
                throw new Api.Unavailable("the key index cannot be read", t);
              })
          .thenCompose(
              indexed -> {
                if (indexed != account) {
                  throw notValid();
                }
                return sharding
                    .entityRefFor(Account.ENTITY_KEY, Long.toString(account))
                    .<Principal>ask(r -> new Account.Authenticate(hash, r), timeout);
              })
          .thenApply(
              p -> {
                if (!p.known()) {
                  throw notValid();
                }
                if (cache.size() >= AUTH_CACHE_SIZE) {
                  cache.clear();
                }
                cache.put(hash, p);
                return p;
              });
    };
  }

  /** One answer for every key that is not valid, whatever is wrong with it. */
  private static Problem.Failure notValid() {
    return Problem.unauthorized("the API key is not valid").failure();
  }
}
