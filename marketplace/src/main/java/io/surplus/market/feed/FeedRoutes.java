package io.surplus.market.feed;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.surplus.engine.ResultCode;
import io.surplus.engine.WindowSpec;
import io.surplus.feed.ingest.FeedFlow;
import io.surplus.feed.ingest.ParsedLine;
import io.surplus.feed.ingest.SequenceGate;
import io.surplus.feed.protocol.FeedError;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.WindowExtended;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.ApiKeys;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.BodyTimeouts;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.http.Role;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketGate;
import io.surplus.market.markets.WindowSlots;
import io.surplus.market.settings.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;

/**
 * The capacity feed: {@code POST /v1/feed} takes a provider's NDJSON events and applies them in
 * order, one at a time, each to its market; {@code GET /v1/feed/position} tells the last sequence
 * applied. The body streams through the framing and parsing stage with back-pressure. A bad line
 * (malformed, against a rule, a gap in the sequence, or refused by its market) stops the request:
 * nothing after it is applied, everything before it stays applied, and the problem names its line.
 * Sequences already applied are skipped, so a provider resends from its last acknowledged position
 * after a dropped connection and each event applies exactly once: every market remembers the
 * highest sequence it applied per provider and answers a repeat as a duplicate.
 */
public final class FeedRoutes {

  /** The feed body's media type; {@code application/json} is taken too (one event is JSON). */
  public static final String NDJSON = "application/x-ndjson";

  /** Most lines applied together (a chunk): as many as one market write takes. */
  static final int MAX_CHUNK = MarketGate.MAX_BATCH;

  /** Largest feed request body. */
  public static final long BODY_LIMIT = 16L * 1024 * 1024;

  /** The reply to a feed request that applied everything it could. */
  public record FeedReply(long lastApplied, long applied, long duplicates) {}

  /** A feed problem: the usual problem document plus where the feed stands. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FeedProblem(
      String type,
      String title,
      int status,
      String detail,
      String field,
      Long line,
      long lastApplied,
      Long expected,
      long applied,
      long duplicates) {}

  private final Settings settings;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final Materializer materializer;
  private final Duration bodyIdle;

  /** One feed request at a time per provider on this node: events apply in order. */
  private final ConcurrentHashMap<Long, CompletableFuture<?>> running = new ConcurrentHashMap<>();

  public FeedRoutes(ActorSystem<?> system, Settings settings) {
    this.settings = settings;
    this.sharding = ClusterSharding.get(system);
    this.timeout = settings.askTimeout();
    this.materializer = Materializer.matFromSystem(system);
    this.bodyIdle = BodyTimeouts.from(system.settings().config()).feedIdle();
  }

  public List<Endpoint> endpoints() {
    Set<Role> provider = Set.of(Role.PROVIDER);
    return List.of(
        Endpoint.of("POST", "/v1/feed", provider, this::feed)
            .withBodyLimit(Api.STREAMED_BODY)
            .withMediaTypes(NDJSON, Api.JSON_MEDIA_TYPE),
        Endpoint.of("GET", "/v1/feed/position", provider, this::position));
  }

  private EntityRef<Account.Command> account(long id) {
    return sharding.entityRefFor(Account.ENTITY_KEY, Long.toString(id));
  }

  private EntityRef<MarketGate.Message> market(String model) {
    return sharding.entityRefFor(MarketGate.ENTITY_KEY, model);
  }

  private CompletionStage<HttpResponse> position(Call call) {
    return account(call.principal().account())
        .<Account.FeedPosition>ask(Account.GetFeedPosition::new, timeout)
        .thenApply(p -> Api.json(200, new FeedReply(p.lastApplied(), 0, 0)));
  }

  private CompletionStage<HttpResponse> feed(Call call) {
    long provider = call.principal().account();
    CompletableFuture<HttpResponse> done = new CompletableFuture<>();
    CompletableFuture<?> previous = running.put(provider, done);
    CompletableFuture<?> before =
        previous == null ? CompletableFuture.completedFuture(null) : previous;
    before
        .handle((v, t) -> null)
        .thenCompose(v -> apply(call, provider))
        .whenComplete(
            (r, t) -> {
              running.remove(provider, done);
              if (t != null) {
                done.completeExceptionally(t);
              } else {
                done.complete(r);
              }
            });
    return done;
  }

  /** Where one request stands as it goes. */
  private static final class Progress {
    long lastApplied;
    long applied;
    long duplicates;
    FeedError error;
    Long expected;
    int status;
  }

  private CompletionStage<HttpResponse> apply(Call call, long provider) {
    return account(provider)
        .<Account.FeedPosition>ask(Account.GetFeedPosition::new, timeout)
        .thenCompose(
            position -> {
              SequenceGate gate = new SequenceGate(position.lastApplied());
              Progress p = new Progress();
              p.lastApplied = position.lastApplied();
              Silence silence = new Silence();
              CompletableFuture<Throwable> ended =
                  call.request()
                      .entity()
                      .withSizeLimit(BODY_LIMIT)
                      .getDataBytes()
                      .map(Optional::of)
                      .keepAlive(bodyIdle, Optional::empty)
                      .filter(silence::passes)
                      .map(Optional::get)
                      .via(FeedFlow.create())
                      // after a refused line the rest is read and dropped, not cut off: a
                      // provider still sending when the answer went out would lose it to a reset
                      .filter(line -> p.error == null)
                      // the lines that arrive while a chunk is applied make the next chunk (group
                      // commit): one account write and one write per run of one market's events
                      .batch(MAX_CHUNK, FeedRoutes::chunkOf, FeedRoutes::addTo)
                      .mapAsync(1, lines -> silence.track(admit(gate, lines, provider, p)))
                      .runWith(Sink.ignore(), materializer)
                      // the position is recorded even when the body broke off (a dropped
                      // connection): what was applied stays applied, and the provider resumes
                      .handle((d, broken) -> broken)
                      .toCompletableFuture();
              return ended
                  .applyToEither(silence.ended(), broken -> broken)
                  .thenCompose(
                      broken ->
                          account(provider)
                              .<org.apache.pekko.Done>ask(
                                  r -> new Account.AdvanceFeed(p.lastApplied, r), timeout)
                              .thenApply(
                                  d -> {
                                    if (broken instanceof Silence.Silent) {
                                      return bodyTimedOut(p);
                                    }
                                    if (broken != null) {
                                      throw new java.util.concurrent.CompletionException(broken);
                                    }
                                    return reply(p);
                                  }));
            });
  }

  private static List<ParsedLine> chunkOf(ParsedLine line) {
    List<ParsedLine> chunk = new ArrayList<>();
    chunk.add(line);
    return chunk;
  }

  private static List<ParsedLine> addTo(List<ParsedLine> chunk, ParsedLine line) {
    chunk.add(line);
    return chunk;
  }

  /**
   * One line of a chunk on its way to being applied: a duplicate (no event), a heartbeat, or an
   * event for a market with the command that applies it; or the error that refuses it.
   */
  private static final class Item {
    final long line;
    final FeedEvent event;
    String market;
    Market.Command command;
    FeedError error;

    Item(long line, FeedEvent event) {
      this.line = line;
      this.event = event;
    }

    boolean duplicate() {
      return event == null;
    }

    /** The key of the window the event names, or null. */
    String windowKey() {
      if (event instanceof WindowOpened w) {
        return "feed:" + w.windowId();
      }
      if (event instanceof WindowExtended x) {
        return "feed:" + x.windowId();
      }
      return event instanceof WindowRevoked v ? "feed:" + v.windowId() : null;
    }
  }

  /** What ends a request once the lines before it are applied: a gap or an invalid line. */
  private record Stop(FeedError error, int status) {}

  /**
   * Applies one chunk of lines in order: each line through the sequence gate and the checks that
   * need no market; then the ids of its new windows in one account write and the windows its other
   * events name in one read; then each run of consecutive events for one market in one write of
   * that market. The first refused line ends the request: nothing after it is applied.
   */
  private CompletionStage<Void> admit(
      SequenceGate gate, List<ParsedLine> lines, long provider, Progress p) {
    if (p.error != null) {
      return CompletableFuture.completedFuture(null);
    }
    long now = System.currentTimeMillis();
    List<Item> items = new ArrayList<>(lines.size());
    Stop stop = null;
    for (ParsedLine line : lines) {
      SequenceGate.Decision d = gate.admit(line);
      switch (d.verdict()) {
        case DUPLICATE -> items.add(new Item(line.line(), null));
        case GAP -> stop = new Stop(d.error(), 409);
        case INVALID -> stop = new Stop(d.error(), 422);
        case CLOSED -> {}
        default -> {
          FeedEvent event = d.toApply().orElseThrow();
          FeedError bad =
              event instanceof WindowOpened w
                  ? check(w, line.line(), now)
                  : outOfRange(event, line.line(), now);
          if (bad != null) {
            stop = new Stop(bad, 422);
          } else {
            items.add(new Item(line.line(), event));
          }
        }
      }
      if (stop != null) {
        break;
      }
    }
    Stop last = stop;
    return windows(items, provider, now)
        .thenCompose(v -> applyFrom(items, 0, p))
        .thenAccept(
            v -> {
              if (p.error == null && last != null) {
                p.error = last.error();
                p.status = last.status();
                if (last.status() == 409) {
                  p.expected = p.lastApplied + 1;
                }
              }
            });
  }

  /**
   * Gives each item for a market its market and command: new windows get their ids in one {@link
   * Account.ReserveWindows}; the windows of earlier requests are found in one {@link
   * Account.FindWindows}.
   */
  private CompletionStage<Void> windows(List<Item> items, long provider, long now) {
    List<Account.WindowToReserve> toReserve = new ArrayList<>();
    for (Item it : items) {
      if (it.event instanceof WindowOpened w) {
        toReserve.add(
            new Account.WindowToReserve(
                it.windowKey(), ApiKeys.sha256(Json.write(identity(w))), w.gpuModel().name()));
      }
    }
    CompletionStage<Account.Reservations> reserved =
        toReserve.isEmpty()
            ? CompletableFuture.completedFuture(new Account.Reservations(List.of()))
            : account(provider)
                .ask(
                    r -> new Account.ReserveWindows(toReserve, now + timeout.toMillis(), r),
                    timeout);
    return reserved.thenCompose(
        res -> {
          // a window opened earlier in this chunk is known from its reservation
          Map<String, Account.WindowIdReserved> known = new HashMap<>();
          List<Item> toFind = new ArrayList<>();
          int k = 0;
          for (Item it : items) {
            if (it.event instanceof WindowOpened w) {
              Account.Reservation r = res.items().get(k++);
              if (r instanceof Account.KeyReused) {
                it.error =
                    new FeedError(it.line, "windowId", "was opened before with other fields");
              } else if (r instanceof Account.Reserved ok) {
                long id = ok.windowOrBidId();
                known.put(
                    it.windowKey(),
                    new Account.WindowIdReserved(id, w.gpuModel().name(), it.windowKey(), null));
                it.market = w.gpuModel().name();
                it.command =
                    new Market.FeedOffer(spec(w, id, provider, now), w.pool(), w.seq(), now, null);
              } else {
                throw new Api.Unavailable("the window id could not be given in time", null);
              }
            } else if (it.windowKey() != null) {
              Account.WindowIdReserved window = known.get(it.windowKey());
              if (window != null) {
                name(it, window, provider, now);
              } else {
                toFind.add(it);
              }
            }
          }
          if (toFind.isEmpty()) {
            return CompletableFuture.completedFuture(null);
          }
          List<String> keys = toFind.stream().map(Item::windowKey).toList();
          return account(provider)
              .<Account.WindowRefs>ask(r -> new Account.FindWindows(keys, r), timeout)
              .thenAccept(
                  found -> {
                    for (int i = 0; i < toFind.size(); i++) {
                      name(toFind.get(i), found.windows().get(i), provider, now);
                    }
                  });
        });
  }

  /** Gives an extension or a revocation the command for the window it names (or its error). */
  private void name(Item it, Account.WindowIdReserved window, long provider, long now) {
    if (window == null) {
      it.error = new FeedError(it.line, "windowId", "names no window this provider opened");
      return;
    }
    long id = window.windowId();
    it.market = window.market();
    if (it.event instanceof WindowExtended x) {
      int end = settings.clock().slotAtOrBefore(x.end()); // checked by outOfRange
      it.command = new Market.ExtendWindow(provider, id, end, x.seq(), now, null);
      return;
    }
    WindowRevoked v = (WindowRevoked) it.event;
    int take = v.nodes().isPresent() ? v.nodes().getAsInt() : 0;
    it.command =
        new Market.RevokeWindow(
            provider, id, take, v.at().toEpochMilli(), v.kind(), v.seq(), now, null);
  }

  /**
   * Applies the items from {@code from} on: the run of consecutive events for one market (with the
   * duplicates and heartbeats among them) in one write of that market, then the rest. A market that
   * tried only part of a run gets the rest again.
   */
  private CompletionStage<Void> applyFrom(List<Item> items, int from, Progress p) {
    String model = null;
    List<Market.Command> run = new ArrayList<>();
    int end = from;
    for (; end < items.size(); end++) {
      Item it = items.get(end);
      if (it.error != null || it.command != null && model != null && !model.equals(it.market)) {
        break;
      }
      if (it.command != null) {
        model = it.market;
        run.add(it.command);
      }
    }
    int runEnd = end;
    if (run.isEmpty()) {
      settle(items, from, runEnd, List.of(), p);
      return CompletableFuture.completedFuture(null);
    }
    return market(model)
        .<Market.FeedOutcomes>ask(
            o -> new MarketGate.Forward(new Market.ApplyFeed(run, o)), timeout)
        .thenCompose(
            o -> {
              int next = settle(items, from, runEnd, o.outcomes(), p);
              return next < 0 || next == items.size()
                  ? CompletableFuture.completedFuture(null)
                  : applyFrom(items, next, p);
            });
  }

  /**
   * Counts items {@code from} to {@code end} against their market's {@code outcomes}, in order:
   * where to go on (the first event the market did not try, or {@code end}), or -1 once a line is
   * refused.
   */
  private static int settle(
      List<Item> items, int from, int end, List<Market.FeedOutcome> outcomes, Progress p) {
    int k = 0;
    for (int i = from; i < items.size(); i++) {
      Item it = items.get(i);
      if (it.error != null) {
        p.error = it.error;
        p.status = 422;
        return -1;
      }
      if (i == end) {
        return end;
      }
      if (it.duplicate()) {
        p.duplicates++;
        continue;
      }
      if (it.command != null) {
        if (k == outcomes.size()) {
          return i;
        }
        FeedError refused = refused(outcomes.get(k++), it.line);
        if (refused != null) {
          p.error = refused;
          p.status = 422;
          return -1;
        }
      }
      p.lastApplied = it.event.seq();
      p.applied++;
    }
    return items.size();
  }

  /**
   * The instants of a {@code window.extended} or {@code window.revoked} line checked against the
   * horizon before anything reaches a market: a new end must be ahead and inside the horizon, a
   * revocation's {@code at} inside the horizon (one in the past means now).
   */
  private FeedError outOfRange(FeedEvent event, long line, long now) {
    try {
      if (event instanceof WindowExtended x) {
        WindowSlots.span(settings.clock(), x.end(), x.end(), now, "end");
      } else if (event instanceof WindowRevoked v) {
        WindowSlots.checkHorizon(settings.clock(), v.at().toEpochMilli(), now, "at");
      }
      return null;
    } catch (Problem.Failure f) {
      return lineError(f, line);
    }
  }

  /** A problem about one field, as the feed's error for {@code line}. */
  private static FeedError lineError(Problem.Failure f, long line) {
    String field = f.problem().field();
    String rule = f.problem().detail();
    return new FeedError(
        line, field, rule.startsWith(field + " ") ? rule.substring(field.length() + 1) : rule);
  }

  /** A window's fields without its sequence: the same window resent has the same identity. */
  private static String identity(WindowOpened w) {
    return w.windowId()
        + "|"
        + w.gpuModel().name()
        + "|"
        + w.pool()
        + "|"
        + w.region()
        + "|"
        + w.nodes()
        + "|"
        + w.gpusPerNode()
        + "|"
        + w.start()
        + "|"
        + w.end()
        + "|"
        + w.reservePrice()
        + "|"
        + w.noticeSeconds()
        + "|"
        + w.confidencePpm();
  }

  private FeedError check(WindowOpened w, long line, long now) {
    String model = w.gpuModel().name();
    if (!settings.hasMarket(model)) {
      return new FeedError(line, "gpuModel", "is not a market: " + settings.markets().keySet());
    }
    if (!settings.regions().contains(w.region())) {
      return new FeedError(line, "region", "is not a region: " + settings.regions());
    }
    if (w.gpusPerNode() != settings.gpusPerNode(model)) {
      return new FeedError(
          line, "gpusPerNode", "must be " + settings.gpusPerNode(model) + " in " + model);
    }
    try {
      WindowSlots.of(settings.clock(), w.start(), w.end(), now);
    } catch (Problem.Failure f) {
      return lineError(f, line);
    }
    return null;
  }

  private WindowSpec spec(WindowOpened w, long id, long provider, long now) {
    WindowSlots slots = WindowSlots.of(settings.clock(), w.start(), w.end(), now);
    return new WindowSpec(
        id,
        provider,
        WindowSlots.poolId(w.pool()),
        settings.regions().indexOf(w.region()),
        w.nodes(),
        w.gpusPerNode(),
        slots.start(),
        slots.end(),
        w.reservePrice(),
        w.noticeSeconds(),
        w.confidencePpm().orElse(1_000_000));
  }

  private static FeedError refused(Market.FeedOutcome o, long line) {
    if (o.code() == ResultCode.OK) {
      return null;
    }
    return switch (o.code()) {
      case UNKNOWN_WINDOW -> new FeedError(line, "windowId", "names no window in its market");
      case NOTICE_VIOLATION ->
          new FeedError(
              line,
              "at",
              "a planned revocation must arrive at least the window's noticeSeconds before at; send"
                  + " it earlier or as emergency");
      case INVALID_REVOCATION ->
          new FeedError(
              line, "nodes", "must leave the window with fewer nodes than it has, and not below 0");
      case INVALID_AMENDMENT -> new FeedError(line, "end", "must be later than the window's end");
      case IN_THE_PAST -> new FeedError(line, "end", "is in the past");
      case BEYOND_HORIZON -> new FeedError(line, "end", "is beyond the horizon");
      case DUPLICATE_ID -> new FeedError(line, "windowId", "is already open");
      default -> new FeedError(line, null, "refused by the market: " + o.code());
    };
  }

  /**
   * A feed body's silence: {@code bodyIdle} without a byte. The request is then answered (408) and
   * the provider's turn freed once the line being applied is done; the rest of the body is drained,
   * not cancelled, as cancelling it would close the connection before the answer is out.
   */
  private static final class Silence {
    /** What a silent body ends with, in place of a stream failure. */
    static final class Silent extends RuntimeException {
      private static final long serialVersionUID = 1L;

      Silent() {
        super("the feed body went silent", null, false, false);
      }
    }

    private final CompletableFuture<Void> heard = new CompletableFuture<>();
    private volatile CompletionStage<Void> applying = CompletableFuture.completedFuture(null);

    /** Passes body bytes until the silence; the empty marker of the keep-alive is the silence. */
    boolean passes(Optional<ByteString> chunk) {
      if (chunk.isEmpty()) {
        heard.complete(null);
      }
      return chunk.isPresent() && !heard.isDone();
    }

    CompletionStage<Void> track(CompletionStage<Void> admitted) {
      applying = admitted;
      return admitted;
    }

    /** Completes with {@link Silent} once the body fell silent and its last line is done. */
    CompletableFuture<Throwable> ended() {
      return heard.thenCompose(v -> applying).handle((v, t) -> new Silent());
    }
  }

  /** The answer to a body that went silent: what was applied stays applied. */
  private HttpResponse bodyTimedOut(Progress p) {
    Problem timeout =
        Problem.requestTimeout(
            "the body sent nothing for "
                + bodyIdle.toSeconds()
                + " s; the lines up to lastApplied were applied, resend from there");
    FeedProblem body =
        new FeedProblem(
            timeout.type(),
            timeout.title(),
            timeout.status(),
            timeout.detail(),
            null,
            null,
            p.lastApplied,
            null,
            p.applied,
            p.duplicates);
    return HttpResponse.create()
        .withStatus(timeout.status())
        .withEntity(HttpEntities.create(Api.PROBLEM_JSON, Json.write(body)));
  }

  private static HttpResponse reply(Progress p) {
    if (p.error == null) {
      return Api.json(200, new FeedReply(p.lastApplied, p.applied, p.duplicates));
    }
    boolean gap = p.status == 409;
    FeedProblem problem =
        new FeedProblem(
            Problem.BASE + (gap ? "feed-gap" : "feed-line-refused"),
            gap ? "A gap in the feed's sequence" : "A feed line was refused",
            p.status,
            "line "
                + p.error.line()
                + ": "
                + (p.error.field() == null ? "" : p.error.field() + " ")
                + p.error.rule()
                + "; nothing after it was applied",
            p.error.field(),
            p.error.line(),
            p.lastApplied,
            p.expected,
            p.applied,
            p.duplicates);
    return HttpResponse.create()
        .withStatus(p.status)
        .withEntity(HttpEntities.create(Api.PROBLEM_JSON, Json.write(problem)));
  }
}
