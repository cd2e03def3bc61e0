package io.surplus.market.stream;

import com.typesafe.config.Config;
import io.micrometer.core.instrument.MeterRegistry;
import io.surplus.engine.Price;
import io.surplus.engine.Reason;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.http.Role;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketTopics;
import io.surplus.market.markets.MarketViews;
import io.surplus.market.settings.Settings;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code /v1/stream}: a WebSocket of public market events, one JSON text message each, and with a
 * stream token ({@link StreamTokens}, from {@code POST /v1/stream/tokens}) the bidder's own lease
 * notices. Today: every durable epoch of the chosen markets ({@code ?markets=H100-SXM-80GB,...},
 * default all), as soon as its {@code EpochCleared} is in the journal, from anywhere in the
 * cluster; every revocation of them; a heartbeat every 15 s keeps idle proxies from closing it.
 *
 * <p>One node-wide fan-out ({@link StreamFanOut}) subscribes to the topics for all the streams of a
 * node and renders each event once; a stream only frames the shared message. Each stream has a
 * bounded buffer of {@code surplus.stream.client-buffer} messages (default {@value
 * #DEFAULT_CLIENT_BUFFER}). A client that falls that far behind (stops reading, or reads slower
 * than the markets clear) is closed: the messages already buffered go out, then a close frame
 * {@code 1008} with reason {@code "client too slow: N messages behind"}. Nothing is ever dropped
 * from an open stream, so a client that was not closed missed nothing after {@code subscribed}, and
 * a slow client never delays the others or a market.
 */
public final class StreamRoutes {

  /** Messages a client may fall behind before its stream is closed as too slow. */
  public static final String CLIENT_BUFFER_KEY = "surplus.stream.client-buffer";

  /** {@link #CLIENT_BUFFER_KEY} unless configured: about a minute of every market's epochs. */
  public static final int DEFAULT_CLIENT_BUFFER = 256;

  /** The longest a stream stays silent: its heartbeat period ({@code surplus.stream.heartbeat}). */
  public static final String HEARTBEAT_KEY = "surplus.stream.heartbeat";

  /** {@link #HEARTBEAT_KEY} unless configured. */
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

  /**
   * The stream's first message: the markets it follows, each at the latest epoch the node's fan-out
   * has passed on ({@code seen}), so the stream's first epoch of it is the next one; a market none
   * of whose epochs has passed since this node started is at its latest view's epoch.
   */
  SubscribedMessage subscribed(List<String> markets, Map<String, Long> seen) {
    List<MarketEpoch> epochs = new ArrayList<>(markets.size());
    for (String m : markets) {
      Long epoch = seen.get(m);
      if (epoch == null) {
        MarketViews.Rendered v = views.get(m);
        epoch = v == null ? null : v.epoch();
      }
      epochs.add(new MarketEpoch(m, epoch));
    }
    return new SubscribedMessage("subscribed", epochs);
  }

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
  private final MarketViews views;
  private final int clientBuffer;
  private final ActorRef<StreamFanOut.Command> fanOut;
  private final ClosingWebSocket sockets;

  public StreamRoutes(
      ActorSystem<?> system,
      Settings settings,
      StreamTokens tokens,
      MarketTopics topics,
      MarketViews views,
      MeterRegistry metrics) {
    this.views = views;
    this.settings = settings;
    this.tokens = tokens;
    Config config = system.settings().config();
    this.clientBuffer =
        config.hasPath(CLIENT_BUFFER_KEY)
            ? config.getInt(CLIENT_BUFFER_KEY)
            : DEFAULT_CLIENT_BUFFER;
    if (clientBuffer < 1) {
      throw new IllegalArgumentException(
          CLIENT_BUFFER_KEY + " must be > 0: " + CLIENT_BUFFER_KEY + "=" + clientBuffer);
    }
    this.fanOut =
        system.systemActorOf(
            StreamFanOut.create(
                topics,
                (followed, seen) -> Json.write(subscribed(followed, seen)),
                clientBuffer,
                metrics,
                pacing(config),
                config.hasPath(HEARTBEAT_KEY) ? config.getDuration(HEARTBEAT_KEY) : HEARTBEAT),
            "stream-fan-out",
            Props.empty());
    this.sockets = new ClosingWebSocket(system);
  }

  /** How the fan-out paces an event to many streams ({@code surplus.stream.fan-out-*}). */
  static StreamFanOut.Pacing pacing(Config config) {
    String chunk = "surplus.stream.fan-out-chunk";
    String pause = "surplus.stream.fan-out-pause";
    if (!config.hasPath(chunk)) {
      return StreamFanOut.Pacing.AT_ONCE;
    }
    return new StreamFanOut.Pacing(
        config.getInt(chunk), config.hasPath(pause) ? config.getDuration(pause) : Duration.ZERO);
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
        Endpoint.of("POST", "/v1/stream/tokens", Set.of(Role.BIDDER, Role.PROVIDER), this::token));
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

  /** What a stream asks for: the markets it follows, and the account of its token (-1: none). */
  record Request(Set<String> markets, List<String> followed, long account) {}

  /**
   * Reads a stream's request, whichever port it came to: {@code query} gives a query parameter,
   * {@code authorization} whether the request has that header. With a stream token ({@code
   * ?token=}, from {@code POST /v1/stream/tokens}), the stream also carries that bidder's own lease
   * notices ({@code lease.notified}, as the webhook gets them); without one, only public events. An
   * API key is refused here in any form: in the URL it would be kept by every log and history on
   * the way, and the stream needs no more than a token gives.
   *
   * @throws Problem.Failure naming the parameter at fault
   */
  Request request(Function<String, Optional<String>> query, boolean authorization) {
    if (query.apply("key").isPresent() || authorization) {
      throw Problem.of(
              400,
              "stream-token-required",
              "The stream takes a stream token, not an API key",
              "an API key is refused on the stream (a URL is kept in logs and histories): POST"
                  + " /v1/stream/tokens with the key as 'Authorization: Bearer <key>', then open"
                  + " /v1/stream?token=<token>",
              query.apply("key").isPresent() ? "key" : "Authorization")
          .failure();
    }
    long account = -1;
    Optional<String> token = query.apply("token");
    if (token.isPresent()) {
      account = tokens.verify(token.get(), Instant.now().getEpochSecond());
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
    }
    Set<String> markets = new LinkedHashSet<>(settings.markets().keySet());
    Optional<String> chosen = query.apply("markets");
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
    return new Request(Set.copyOf(markets), List.copyOf(markets), account);
  }

  /** The problem of a request for a stream that is not a WebSocket upgrade. */
  static Problem.Failure websocketRequired(String where) {
    return Problem.of(
            400,
            "websocket-required",
            "A WebSocket upgrade is required",
            "connect with a WebSocket client to " + where,
            null)
        .failure();
  }

  /** Each stream's buffer: messages its client may fall behind before it is cut off. */
  int clientBuffer() {
    return clientBuffer;
  }

  /** Hands {@code s} to the node's fan-out: it is sent {@code subscribed}, then its events. */
  void join(StreamFanOut.Subscriber s) {
    fanOut.tell(new StreamFanOut.Join(s));
  }

  /** Tells the node's fan-out that {@code s} has ended. */
  void leave(StreamFanOut.Subscriber s) {
    fanOut.tell(new StreamFanOut.Leave(s));
  }

  private CompletionStage<HttpResponse> stream(Call call) {
    Request r = request(call::query, call.header("Authorization").isPresent());
    var upgrade = call.request().getAttribute(AttributeKeys.webSocketUpgrade);
    if (upgrade.isEmpty()) {
      throw websocketRequired("ws://<host>/v1/stream");
    }
    AtomicReference<ClosingWebSocket.Close> close = new AtomicReference<>();
    Source<Message, NotUsed> events =
        Source.<Message>queue(clientBuffer)
            .mapMaterializedValue(
                queue -> {
                  StreamFanOut.Subscriber s =
                      new StreamFanOut.Subscriber(
                          r.markets(), r.followed(), r.account(), queue, close);
                  join(s);
                  return s;
                })
            .watchTermination(
                (s, done) -> {
                  done.whenComplete((d, failure) -> leave(s));
                  return NotUsed.getInstance();
                });
    Flow<Message, Message, NotUsed> flow = Flow.fromSinkAndSourceCoupled(Sink.ignore(), events);
    return CompletableFuture.completedFuture(sockets.handle(upgrade.get(), flow, close));
  }
}
