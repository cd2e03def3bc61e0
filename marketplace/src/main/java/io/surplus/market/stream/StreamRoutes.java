package io.surplus.market.stream;

import io.surplus.engine.Price;
import io.surplus.engine.Reason;
import io.surplus.market.accounts.Account;
import io.surplus.market.app.Settings;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketTopics;
import io.surplus.market.markets.MarketViews;
import io.surplus.market.webhooks.WebhookNotices;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * {@code /v1/stream}: a WebSocket of public market events, one JSON text message each, and with a
 * stream token ({@link StreamTokens}, from {@code POST /v1/stream/tokens}) the bidder's own lease
 * notices. Today: every durable epoch of the chosen markets ({@code ?markets=H100-SXM-80GB,...},
 * default all), as soon as its {@code EpochCleared} is in the journal, from anywhere in the
 * cluster. A slow client loses the oldest messages, never slows a market; a heartbeat every 15 s
 * keeps idle proxies from closing it.
 */
public final class StreamRoutes {

  /** Messages buffered per client before the oldest are dropped. */
  public static final int CLIENT_BUFFER = 256;

  /** Heartbeat period on an otherwise idle stream. */
  public static final Duration HEARTBEAT = Duration.ofSeconds(15);

  public record EpochMessage(
      String type,
      String gpuModel,
      long epoch,
      String clearedAt,
      String clearingPrice,
      int leases,
      int filledNodes,
      int openBids,
      Map<String, Integer> unfilledByReason) {}

  /**
   * The first message of every stream, sent once the stream's subscriptions are live: every event
   * after it reaches the client, so a client that acts only after it misses nothing.
   */
  public record SubscribedMessage(String type, List<MarketEpoch> markets) {}

  /** A market the stream follows and its latest epoch as this node knows it (null: none yet). */
  public record MarketEpoch(String gpuModel, Long epoch) {}

  /** The stream's first message: the markets it follows, each at its latest epoch. */
  private SubscribedMessage subscribed(List<String> markets) {
    List<MarketEpoch> epochs = new ArrayList<>(markets.size());
    for (String m : markets) {
      MarketViews.Rendered v = views.get(m);
      epochs.add(new MarketEpoch(m, v == null ? null : v.epoch()));
    }
    return new SubscribedMessage("subscribed", epochs);
  }

  /**
   * Subscribes {@code subscriber} to {@code topic}; completes once the topic has taken it (a topic
   * handles its messages in order, so its answer to the stats request that follows the subscription
   * comes after the subscription is in place).
   */
  private <T> CompletionStage<Topic.TopicStats> subscribe(
      ActorRef<Topic.Command<T>> topic, ActorRef<T> subscriber) {
    topic.tell(Topic.subscribe(subscriber));
    return AskPattern.ask(topic, Topic::getTopicStats, SUBSCRIBE_TIMEOUT, scheduler);
  }

  /** How long a stream waits for its topics to take its subscription before it tells nothing. */
  static final Duration SUBSCRIBE_TIMEOUT = Duration.ofSeconds(10);

  public record RevocationMessage(
      String type,
      String gpuModel,
      String at,
      String kind,
      int leasesCut,
      int nodesCut,
      String firstPreemptAt) {}

  /** A new stream token: {@code POST /v1/stream/tokens}. */
  public record TokenReply(String token, long account, String expiresAt) {}

  private final Settings settings;
  private final StreamTokens tokens;
  private final ActorRef<Topic.Command<Market.LeaseNoticePublished>> leaseNotices;
  private final ActorRef<Topic.Command<Market.EpochPublished>> topic;
  private final ActorRef<Topic.Command<Market.RevocationPublished>> revocations;

  private final Scheduler scheduler;

  private final MarketViews views;

  public StreamRoutes(
      ActorSystem<?> system,
      Settings settings,
      StreamTokens tokens,
      MarketTopics topics,
      MarketViews views) {
    this.views = views;
    this.settings = settings;
    this.tokens = tokens;
    this.scheduler = system.scheduler();
    this.leaseNotices = topics.leaseNotices();
    this.topic = topics.epochs();
    this.revocations = topics.revocations();
  }

  static boolean wanted(Object e, Set<String> markets, long account) {
    if (e instanceof Market.EpochPublished p) {
      return markets.contains(p.gpuModel());
    }
    if (e instanceof Market.RevocationPublished r) {
      return markets.contains(r.gpuModel());
    }
    // a private notice: only its own bidder's, from any market
    return ((Market.LeaseNoticePublished) e).cut().lease().account() == account;
  }

  static Object message(Object e) {
    if (e instanceof Market.EpochPublished p) {
      return message(p);
    }
    if (e instanceof Market.RevocationPublished r) {
      return message(r);
    }
    Market.LeaseNoticePublished n = (Market.LeaseNoticePublished) e;
    return WebhookNotices.Notice.of(n.gpuModel(), n.revocation(), n.cut());
  }

  static RevocationMessage message(Market.RevocationPublished r) {
    return new RevocationMessage(
        "revocation",
        r.gpuModel(),
        Instant.ofEpochMilli(r.atMillis()).toString(),
        r.kind().name().toLowerCase(java.util.Locale.ROOT),
        r.leasesCut(),
        r.nodesCut(),
        r.leasesCut() == 0 ? null : Instant.ofEpochMilli(r.firstPreemptAtMillis()).toString());
  }

  public List<Endpoint> endpoints() {
    return List.of(
        Endpoint.of("GET", "/v1/stream", Set.of(), this::stream),
        Endpoint.of(
            "POST",
            "/v1/stream/tokens",
            Set.of(Account.Role.BIDDER, Account.Role.PROVIDER),
            this::token));
  }

  /** A token for the caller's account, for {@code /v1/stream?token=}; the key stays in a header. */
  private CompletionStage<HttpResponse> token(Call call) {
    long now = Instant.now().getEpochSecond();
    return CompletableFuture.completedFuture(
        Api.json(
            201,
            new TokenReply(
                tokens.issue(call.principal().account(), now),
                call.principal().account(),
                Instant.ofEpochSecond(tokens.expiresAt(now)).toString())));
  }

  static EpochMessage message(Market.EpochPublished e) {
    Map<String, Integer> reasons = new TreeMap<>();
    int[] counts = e.reasonCounts();
    for (int i = 1; counts != null && i < counts.length; i++) {
      if (counts[i] > 0) {
        reasons.put(Reason.of(i).name(), counts[i]);
      }
    }
    return new EpochMessage(
        "epoch",
        e.gpuModel(),
        e.epoch(),
        Instant.ofEpochMilli(e.atMillis()).toString(),
        e.clearingPrice() == 0 ? null : Price.format(e.clearingPrice()),
        e.leases(),
        e.filledNodes(),
        e.openBids(),
        reasons);
  }

  /**
   * With a stream token ({@code ?token=}, from {@code POST /v1/stream/tokens}), the stream also
   * carries that bidder's own lease notices ({@code lease.notified}, as the webhook gets them);
   * without one, only public events. An API key is refused here in any form: in the URL it would be
   * kept by every log and history on the way, and the stream needs no more than a token gives.
   */
  private CompletionStage<HttpResponse> stream(Call call) {
    if (call.query("key").isPresent() || call.header("Authorization").isPresent()) {
      throw Problem.of(
              400,
              "stream-token-required",
              "The stream takes a stream token, not an API key",
              "an API key is refused on the stream (a URL is kept in logs and histories): POST"
                  + " /v1/stream/tokens with the key as 'Authorization: Bearer <key>', then open"
                  + " /v1/stream?token=<token>",
              call.query("key").isPresent() ? "key" : "Authorization")
          .failure();
    }
    Optional<String> token = call.query("token");
    if (token.isEmpty()) {
      return stream(call, -1);
    }
    long account = tokens.verify(token.get(), Instant.now().getEpochSecond());
    if (account < 0) {
      throw Problem.of(
              401,
              "stream-token-invalid",
              "The stream token is not valid",
              "the stream token is not valid or has expired; get a new one with POST"
                  + " /v1/stream/tokens",
              "token")
          .failure();
    }
    return stream(call, account);
  }

  private CompletionStage<HttpResponse> stream(Call call, long account) {
    Set<String> markets = new LinkedHashSet<>(settings.markets().keySet());
    Optional<String> chosen = call.query("markets");
    if (chosen.isPresent()) {
      markets = new LinkedHashSet<>(Arrays.asList(chosen.get().split(",")));
      for (String m : markets) {
        if (!settings.hasMarket(m)) {
          throw Problem.of(
                  400,
                  "invalid-query",
                  "A query parameter is invalid",
                  "unknown market '" + m + "'; markets: " + settings.markets().keySet(),
                  "markets")
              .failure();
        }
      }
    }
    var upgrade = call.request().getAttribute(AttributeKeys.webSocketUpgrade);
    if (upgrade.isEmpty()) {
      throw Problem.of(
              400,
              "websocket-required",
              "A WebSocket upgrade is required",
              "connect with a WebSocket client to ws://<host>/v1/stream",
              null)
          .failure();
    }
    Set<String> wanted = Set.copyOf(markets);
    List<String> followed = List.copyOf(markets);
    Source<Message, NotUsed> events =
        ActorSource.<Object>actorRef(
                m -> false, m -> Optional.empty(), CLIENT_BUFFER, OverflowStrategy.dropHead())
            .mapMaterializedValue(
                ref -> {
                  List<CompletionStage<Topic.TopicStats>> taken = new ArrayList<>(3);
                  taken.add(subscribe(topic, ref.narrow()));
                  taken.add(subscribe(revocations, ref.narrow()));
                  if (account > 0) {
                    taken.add(subscribe(leaseNotices, ref.narrow()));
                  }
                  // every topic has taken the subscription: from here on the client misses nothing
                  CompletableFuture.allOf(
                          taken.stream()
                              .map(CompletionStage::toCompletableFuture)
                              .toArray(CompletableFuture[]::new))
                      .thenRun(() -> ref.tell(subscribed(followed)));
                  return NotUsed.getInstance();
                })
            .filter(e -> e instanceof SubscribedMessage || wanted(e, wanted, account))
            .map(
                e ->
                    (Message)
                        TextMessage.create(
                            Json.write(e instanceof SubscribedMessage s ? s : message(e))))
            .keepAlive(HEARTBEAT, () -> TextMessage.create("{\"type\":\"heartbeat\"}"));
    Flow<Message, Message, NotUsed> flow = Flow.fromSinkAndSourceCoupled(Sink.ignore(), events);
    return CompletableFuture.completedFuture(upgrade.get().handleMessagesWith(flow));
  }
}
