package io.surplus.market.markets;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.surplus.engine.BidSpec;
import io.surplus.engine.GpuModel;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.Reason;
import io.surplus.engine.ResultCode;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.Cut;
import io.surplus.engine.book.Depth;
import io.surplus.engine.book.EpochResult;
import io.surplus.engine.book.OrderBook;
import io.surplus.engine.book.RevocationPlan;
import io.surplus.engine.book.WindowProfile;
import io.surplus.market.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One market (one GPU model) as an event-sourced entity around the clearing engine. Commands are
 * checked against the book first; a rejection replies without persisting, an acceptance persists
 * its event and the event handler applies it to the book, so replaying the journal rebuilds the
 * exact book (the engine is deterministic). An epoch is persisted as {@code EpochCleared} with its
 * instant; applying it runs the same clearing again on replay.
 */
public final class Market extends EventSourcedBehavior<Market.Command, Market.Event, Market.State> {

  /**
   * The book, mutated in place by the event handler only, and what arrived while an epoch clears.
   *
   * <p>An epoch starts with {@link EpochCut}: from then on the book stays as it was at the cut (so
   * the actor can still read it, and a copy of it clears on another thread) and every change that
   * follows waits in {@link #pending}, in journal order. {@link EpochCleared} ends the epoch: the
   * cleared book replaces this one and the pending changes are applied to it, in order. Replay does
   * the same from the journal, so the journal's order alone says which epoch a change belongs to.
   */
  public static final class State {
    OrderBook book;
    EpochResult lastEpoch;

    /** The instant of the epoch being cleared since its cut, or null when none is. */
    Long cutAt;

    /** Changes written since the cut, applied to the book once the epoch is written. */
    final List<Event> pending = new ArrayList<>();

    /** Bids placed and windows offered in {@link #pending}, for the checks of later commands. */
    final Set<Long> pendingBids = new HashSet<>();

    final Map<Long, WindowSpec> pendingWindows = new HashMap<>();

    /** What applying each pending change answered, when the last epoch was written. */
    ResultCode[] applied = new ResultCode[0];

    /** Per provider, the highest feed sequence number this market has applied. */
    final Map<Long, Long> feedSeq = new HashMap<>();

    /** Revocations applied to the book; orders them so replay applies each exactly once. */
    long revocations;

    /** Events applied since this state was made: tells the view whether the book changed. */
    long changes;

    State(OrderBook book) {
      this.book = book;
    }

    /** Keeps a change written since the cut for after the epoch. */
    void hold(Event e) {
      pending.add(e);
      if (e instanceof BidPlaced b) {
        pendingBids.add(b.bid().id());
      } else if (e instanceof WindowOffered o) {
        pendingWindows.put(o.window().id(), o.window());
      } else if (e instanceof FeedWindowOffered f) {
        pendingWindows.put(f.window().id(), f.window());
      }
    }

    /** The window {@code id} as of the latest change: in the book, or offered since the cut. */
    WindowSpec window(long id) {
      WindowSpec w = book.window(id);
      return w != null ? w : pendingWindows.get(id);
    }

    /** The book's check of a new bid, and no bid of that id placed since the cut. */
    ResultCode checkPlace(BidSpec bid, long atMillis) {
      ResultCode rc = book.checkPlace(bid, atMillis);
      return rc == ResultCode.OK && pendingBids.contains(bid.id()) ? ResultCode.DUPLICATE_ID : rc;
    }

    /** The book's check of a new window, and no window of that id offered since the cut. */
    ResultCode checkOffer(WindowSpec w, long atMillis) {
      ResultCode rc = book.checkOffer(w, atMillis);
      return rc == ResultCode.OK && pendingWindows.containsKey(w.id())
          ? ResultCode.DUPLICATE_ID
          : rc;
    }

    boolean seen(long provider, long seq) {
      return seq > 0 && seq <= feedSeq.getOrDefault(provider, 0L);
    }

    void advance(long provider, long seq) {
      if (seq > 0) {
        feedSeq.merge(provider, seq, Math::max);
      }
    }
  }

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = PlaceBid.class, name = "PlaceBid"),
    @JsonSubTypes.Type(value = PlaceBids.class, name = "PlaceBids"),
    @JsonSubTypes.Type(value = CancelBid.class, name = "CancelBid"),
    @JsonSubTypes.Type(value = OfferWindow.class, name = "OfferWindow"),
    @JsonSubTypes.Type(value = ClearEpoch.class, name = "ClearEpoch"),
    @JsonSubTypes.Type(value = GetBid.class, name = "GetBid"),
    @JsonSubTypes.Type(value = QuoteBid.class, name = "QuoteBid"),
    @JsonSubTypes.Type(value = GetImage.class, name = "GetImage"),
    @JsonSubTypes.Type(value = FeedOffer.class, name = "FeedOffer"),
    @JsonSubTypes.Type(value = ExtendWindow.class, name = "ExtendWindow"),
    @JsonSubTypes.Type(value = RevokeWindow.class, name = "RevokeWindow"),
    @JsonSubTypes.Type(value = ApplyFeed.class, name = "ApplyFeed")
  })
  public sealed interface Command extends CborSerializable {}

  /**
   * Stop, for a shard's hand-off: handled like any command, so only after the writes in flight are
   * done (commands wait while a write is in flight), never with one still on its way to the journal
   * that could land after the market's next incarnation elsewhere has written.
   */
  public record Stop() implements Command {}

  /**
   * Places a bid. One that reaches the market after {@code deadlineMillis} (its caller has timed
   * out and answered 503) is dropped unwritten and unanswered. In a {@link PlaceBids} a bid may
   * have no {@code replyTo}: its result then goes back in the batch's {@link BatchWritten} only.
   */
  public record PlaceBid(BidSpec bid, long atMillis, long deadlineMillis, ActorRef<Outcome> replyTo)
      implements Command {

    /** A bid without a deadline. */
    public static PlaceBid of(BidSpec bid, long atMillis, ActorRef<Outcome> replyTo) {
      return new PlaceBid(bid, atMillis, Long.MAX_VALUE, replyTo);
    }
  }

  /**
   * Bids and cancels gathered by a {@link MarketGate} into one journal write ({@code bids} holds
   * {@link PlaceBid}s and {@link CancelBid}s): each is checked in order (against the book and the
   * commands before it in the batch); the accepted ones persist together, then every command gets
   * its own outcome (a cancel written while an epoch clears, once the epoch is) and the gate hears
   * {@code done}.
   */
  public record PlaceBids(long batch, List<Command> bids, ActorRef<BatchWritten> done)
      implements Command {}

  public record CancelBid(long bidId, ActorRef<Outcome> replyTo) implements Command {}

  /** A provider's window, {@code pool} as the provider names it (for its statement). */
  public record OfferWindow(
      WindowSpec window, String pool, long atMillis, ActorRef<Outcome> replyTo)
      implements Command {}

  public record ClearEpoch(long atMillis, ActorRef<EpochSummary> replyTo) implements Command {}

  public record GetBid(long bidId, ActorRef<BidSummary> replyTo) implements Command {}

  /**
   * What the next epoch would do with {@code bid} ({@link io.surplus.engine.whatif.Quote}): writes
   * nothing. The market copies its book (after the epoch clearing now, if one is) and the quote
   * clears copies of it on the quoting thread, never on the market's.
   */
  public record QuoteBid(BidSpec bid, long atMillis, ActorRef<Quoted> replyTo) implements Command {}

  /** A quote, or {@code busy} when the quoting thread has too many waiting already. */
  public record Quoted(io.surplus.engine.whatif.Quote.Result quote, boolean busy)
      implements CborSerializable {}

  /**
   * Where quotes run: one thread per node, at most {@link #QUOTES_WAITING} waiting; past that a
   * quote is answered busy (503), so quotes cannot crowd out epochs on a busy machine.
   */
  private static final java.util.concurrent.ThreadPoolExecutor QUOTES =
      new java.util.concurrent.ThreadPoolExecutor(
          1,
          1,
          0,
          java.util.concurrent.TimeUnit.MILLISECONDS,
          new java.util.concurrent.ArrayBlockingQueue<>(Market.QUOTES_WAITING),
          r -> {
            Thread t = new Thread(r, "surplus-quotes");
            t.setDaemon(true);
            return t;
          });

  static final int QUOTES_WAITING = 16;

  /** The epoch timer fired: clear now if any bid is open. */
  enum Tick implements Command {
    INSTANCE
  }

  /** The copy taken at the cut has cleared on the clearing thread. */
  private record EpochComputed(
      long token,
      OrderBook cleared,
      EpochResult result,
      long copiedAt,
      long startedNanos,
      long nanos)
      implements Command {}

  /** Clearing the copy threw: the market restarts from its journal and clears that cut again. */
  private record EpochFailed(long token, Throwable cause) implements Command {}

  /** The view timer fired: publish the market's view if the book or the current slot moved. */
  enum ViewTick implements Command {
    INSTANCE
  }

  /**
   * A window from a provider's feed, with the provider's sequence number: a sequence this market
   * has already applied for the provider is a duplicate, answered without writing anything.
   */
  public record FeedOffer(
      WindowSpec window, String pool, long seq, long atMillis, ActorRef<FeedOutcome> replyTo)
      implements Command {}

  /** Moves a window's end later ({@code window.extended}). */
  public record ExtendWindow(
      long provider,
      long windowId,
      int newEndSlot,
      long seq,
      long atMillis,
      ActorRef<FeedOutcome> replyTo)
      implements Command {}

  /**
   * Reclaims capacity ({@code window.revoked}): the window keeps at most {@code keepNodes} nodes
   * from {@code fromMillis} on (0 ends it there). Leases that no longer fit are cut as the engine
   * plans it; a planned revocation inside the window's notice is refused.
   */
  public record RevokeWindow(
      long provider,
      long windowId,
      int takeNodes,
      long fromMillis,
      RevocationKind kind,
      long seq,
      long atMillis,
      ActorRef<FeedOutcome> replyTo)
      implements Command {}

  /**
   * The answer to a feed command: {@link ResultCode#OK} once written (or {@code duplicate} when the
   * sequence was applied before), with the leases a revocation cut.
   */
  public record FeedOutcome(ResultCode code, boolean duplicate, List<Cut> cuts)
      implements CborSerializable {

    static final FeedOutcome APPLIED = new FeedOutcome(ResultCode.OK, false, List.of());
    static final FeedOutcome DUPLICATE = new FeedOutcome(ResultCode.OK, true, List.of());

    static FeedOutcome refused(ResultCode code) {
      return new FeedOutcome(code, false, List.of());
    }
  }

  /**
   * A provider's consecutive feed events for this market ({@link FeedOffer}, {@link ExtendWindow}
   * and {@link RevokeWindow}, whose own {@code replyTo} is not used), written together: each is
   * checked in order, against the book, the changes since the cut and the events before it. The
   * write ends at the first refused event (nothing after it is tried); before an event naming a
   * window an earlier one in it named, and before a revocation that is not first (their checks need
   * what comes before applied); and after an extension while an epoch clears (it is answered after
   * the epoch). A group that starts with a revocation waits while an epoch clears. {@code replyTo}
   * hears the outcomes of the events tried, in order: fewer than sent when the write ended early,
   * and the caller sends the rest again.
   */
  public record ApplyFeed(List<Command> events, ActorRef<FeedOutcomes> replyTo)
      implements Command {}

  /** The outcomes of an {@link ApplyFeed}'s events tried, in order. */
  public record FeedOutcomes(List<FeedOutcome> outcomes) implements CborSerializable {}

  /** Asks for the book's canonical image: equal books give equal bytes. */
  public record GetImage(ActorRef<Image> replyTo) implements Command {}

  /** The answer to a write: {@link ResultCode#OK} once its event is in the journal. */
  public record Outcome(ResultCode code) implements CborSerializable {}

  public record BidSummary(BidSpec bid, Reason reason) implements CborSerializable {
    public boolean open() {
      return bid != null;
    }
  }

  public record EpochSummary(long epoch, long clearingPrice, int leases, int openBids)
      implements CborSerializable {}

  public record Image(byte[] bytes) implements CborSerializable {}

  /**
   * A batch is written: how many bids it accepted, and each bid's result in the batch's order (null
   * for one dropped past its deadline, unwritten and unanswered).
   */
  public record BatchWritten(long batch, int accepted, List<ResultCode> results)
      implements CborSerializable {}

  /**
   * A snapshot: the book's canonical image, the feed positions and the revocations counted; taken
   * while an epoch clears, also the instant of the cut and the changes since. The entity hands it a
   * copy of the book ({@link OrderBook#copy()}, a few milliseconds), and the image is rendered from
   * that copy only when the snapshot store serializes it, on the store's thread: the market's actor
   * never spends the tens of milliseconds a full book's image takes. Read back, it holds the image.
   */
  public static final class BookSnapshot implements CborSerializable {
    private OrderBook book;
    private byte[] image;
    private final Map<Long, Long> feedSeq;
    private final long revocations;
    private final Long cutAt;
    private final List<PendingChange> pending;

    @com.fasterxml.jackson.annotation.JsonCreator
    public BookSnapshot(
        @com.fasterxml.jackson.annotation.JsonProperty("image") byte[] image,
        @com.fasterxml.jackson.annotation.JsonProperty("feedSeq") Map<Long, Long> feedSeq,
        @com.fasterxml.jackson.annotation.JsonProperty("revocations") long revocations,
        @com.fasterxml.jackson.annotation.JsonProperty("cutAt") Long cutAt,
        @com.fasterxml.jackson.annotation.JsonProperty("pending") List<PendingChange> pending) {
      this.image = image;
      this.feedSeq = feedSeq;
      this.revocations = revocations;
      this.cutAt = cutAt;
      this.pending = pending;
    }

    /** A snapshot whose image is rendered from {@code book} (owned by it) when first asked for. */
    BookSnapshot(
        OrderBook book,
        Map<Long, Long> feedSeq,
        long revocations,
        Long cutAt,
        List<PendingChange> pending) {
      this((byte[]) null, feedSeq, revocations, cutAt, pending);
      this.book = book;
    }

    @com.fasterxml.jackson.annotation.JsonProperty("image")
    public synchronized byte[] image() {
      if (image == null) {
        image = book.snapshot();
        book = null;
      }
      return image;
    }

    @com.fasterxml.jackson.annotation.JsonProperty("feedSeq")
    public Map<Long, Long> feedSeq() {
      return feedSeq;
    }

    @com.fasterxml.jackson.annotation.JsonProperty("revocations")
    public long revocations() {
      return revocations;
    }

    @com.fasterxml.jackson.annotation.JsonProperty("cutAt")
    public Long cutAt() {
      return cutAt;
    }

    @com.fasterxml.jackson.annotation.JsonProperty("pending")
    public List<PendingChange> pending() {
      return pending;
    }
  }

  /** One change written after a cut, as a snapshot keeps it: exactly one field is set. */
  public record PendingChange(
      BidPlaced placed,
      BidCancelled cancelled,
      WindowOffered offered,
      FeedWindowOffered fed,
      WindowExtended extended)
      implements CborSerializable {

    static PendingChange of(Event e) {
      return new PendingChange(
          e instanceof BidPlaced b ? b : null,
          e instanceof BidCancelled c ? c : null,
          e instanceof WindowOffered o ? o : null,
          e instanceof FeedWindowOffered f ? f : null,
          e instanceof WindowExtended x ? x : null);
    }

    Event event() {
      if (placed != null) {
        return placed;
      }
      if (cancelled != null) {
        return cancelled;
      }
      if (offered != null) {
        return offered;
      }
      return fed != null ? fed : extended;
    }
  }

  public sealed interface Event extends CborSerializable {}

  public record BidPlaced(BidSpec bid, long atMillis) implements Event {}

  /**
   * The market's clearing rule from here on: with or without the engine's repair pass, and with or
   * without the pass's re-pack phase. Written at an epoch tick outside any epoch, when the
   * configured rule differs from the book's; replay sets it at the same point, so every epoch
   * replays as it was cleared. An event written before the phase existed reads {@code repack}
   * false: the rule it set.
   */
  public record ClearingRuleSet(boolean repair, boolean repack) implements Event {}

  public record BidCancelled(long bidId) implements Event {}

  /**
   * An epoch's cut at {@code atMillis}: the epoch clears the book as it is here; what the journal
   * holds after this and before the epoch's {@link EpochCleared} waits for the next one.
   */
  public record EpochCut(long atMillis) implements Event {}

  /**
   * A window offered through the API; {@code pool} is the provider's name of its pool (the engine
   * knows only its number), null in events written before the name was kept.
   */
  public record WindowOffered(WindowSpec window, String pool, long atMillis) implements Event {}

  /** A window from a provider's feed at sequence {@code seq}; {@code pool} as in WindowOffered. */
  public record FeedWindowOffered(WindowSpec window, String pool, long seq, long atMillis)
      implements Event {}

  public record WindowExtended(
      long provider, long windowId, int newEndSlot, long seq, long atMillis) implements Event {}

  /**
   * A revocation, the {@code number}th of this market, and the leases it cut (each notified now,
   * preempted at its {@code preemptAtMillis}). Replay runs the same revocation on the book.
   */
  public record WindowRevoked(
      long number,
      long provider,
      long windowId,
      int keepNodes,
      long fromMillis,
      RevocationKind kind,
      long seq,
      long atMillis,
      List<Cut> cuts)
      implements Event {}

  /**
   * One epoch as readers need it: the leases made, the uniform price and its marginal bid, the bids
   * closed unfilled, and the bids whose reason changed. The book applies the epoch by running the
   * same clearing at {@code atMillis}; the rest is for the read side. {@code reasonCounts} holds
   * the open bids per {@link Reason} ordinal after the epoch (IOC bids just closed included).
   */
  public record EpochCleared(
      long atMillis,
      long epoch,
      long clearingPrice,
      long marginalBidId,
      List<Lease> leases,
      long[] expiredBidIds,
      long[] unfilledIocBidIds,
      long[] reasonBidIds,
      byte[] reasons,
      int[] reasonCounts,
      int openBids)
      implements Event {

    static EpochCleared of(long atMillis, EpochResult r) {
      return new EpochCleared(
          atMillis,
          r.epoch(),
          r.clearingPrice(),
          r.marginalBidId(),
          r.leases(),
          r.expiredBidIds(),
          r.unfilledIocBidIds(),
          r.reasonBidIds(),
          r.reasons(),
          r.reasonCounts(),
          r.openBids());
    }
  }

  /**
   * The tag of the events the read side follows: {@link EpochCleared}, {@link WindowRevoked}, and a
   * window's offer and extension ({@link WindowOffered}, {@link FeedWindowOffered}, {@link
   * WindowExtended}: the providers' statements). Tag writes are synchronous, so bids stay untagged
   * and off that cost.
   */
  public static final String EPOCH_TAG = "epoch";

  /**
   * What the live stream tells of an epoch once it is durable: published on the cluster-wide topic
   * {@link #EPOCH_TOPIC}, never replayed.
   */
  public record EpochPublished(
      String gpuModel,
      long epoch,
      long atMillis,
      long clearingPrice,
      int leases,
      int filledNodes,
      int openBids,
      int[] reasonCounts)
      implements CborSerializable {}

  /** The pub-sub topic of {@link EpochPublished}. */
  public static final String EPOCH_TOPIC = "market-epochs";

  /**
   * What the public reads of a market, as of {@code atMillis}: its depth and its capacity timeline.
   * Published on {@link #VIEW_TOPIC} after each epoch, when the book or the current slot has moved
   * (at most once per epoch interval), and again every {@link #VIEW_HEARTBEAT} so a node that joins
   * late gets it; never replayed. Every node keeps the latest and answers reads from it, so no
   * public read asks a market.
   */
  public record ViewPublished(
      String gpuModel,
      long epoch,
      long atMillis,
      long lastClearingPrice,
      Depth depth,
      List<WindowProfile> windows)
      implements CborSerializable {}

  /** The pub-sub topic of {@link ViewPublished}. */
  public static final String VIEW_TOPIC = "market-views";

  /** How often an unchanged view is published again, for nodes that joined since. */
  public static final Duration VIEW_HEARTBEAT = Duration.ofSeconds(5);

  public static Behavior<Topic.Command<ViewPublished>> viewTopic() {
    return Topic.create(ViewPublished.class, VIEW_TOPIC);
  }

  /** A node's local handle on the epoch topic; spawn one per node (or per publisher). */
  public static Behavior<Topic.Command<EpochPublished>> epochTopic() {
    return Topic.create(EpochPublished.class, EPOCH_TOPIC);
  }

  /**
   * The fewest events between snapshots. A snapshot is the book's whole image (8.4 MB and 60 ms of
   * rendering at 100,000 open bids, plus that much to write and collect), so a market snapshots
   * when the journal since its last snapshot is as long as that snapshot's book, and at least this
   * many events ({@link #shouldSnapshot}): what a snapshot costs per event stays the same at any
   * book size, and recovery replays at most {@code max(SNAPSHOT_EVERY, the last snapshot's open
   * bids)} events.
   */
  public static final int SNAPSHOT_EVERY = 10_000;

  /**
   * Every this many events a market also snapshots on Pekko's retention rule, which deletes the
   * snapshots older than {@code RETAIN_EVERY} events before it: a market keeps the snapshots of at
   * most its last {@code 2 x RETAIN_EVERY} events (80 of a small book, fewer of a larger one).
   */
  public static final int RETAIN_EVERY = 400_000;

  private final SlotClock clock;
  private final PricingRule pricing;

  public static PersistenceId persistenceId(GpuModel model) {
    return PersistenceId.of("Market", model.name());
  }

  /** Default time between epochs. */
  public static final Duration DEFAULT_EPOCH_INTERVAL = Duration.ofSeconds(1);

  private final LongSupplier wallClock;

  /** A market without an epoch timer: epochs run on {@link ClearEpoch} only. */
  public static Behavior<Command> create(GpuModel model, SlotClock clock, PricingRule pricing) {
    return new Market(persistenceId(model), clock, pricing, System::currentTimeMillis);
  }

  /** A market that clears every {@code interval} at the time {@code wallClock} gives. */
  public static Behavior<Command> create(
      GpuModel model,
      SlotClock clock,
      PricingRule pricing,
      Duration interval,
      LongSupplier wallClock) {
    return create(
        model,
        clock,
        pricing,
        interval,
        wallClock,
        new Links(null, null, null, null, null, null, null));
  }

  /**
   * Where a market reports, each part optional (null in a test's market): the live stream's topics
   * of epochs, revocations and cut leases; its gate, told when the market has recovered and when it
   * fails; the topic of its public view; its meters; where its epochs clear (null: the {@code
   * surplus.clearing-dispatcher}).
   */
  public record Links(
      ActorRef<Topic.Command<EpochPublished>> epochs,
      ActorRef<Topic.Command<RevocationPublished>> revocations,
      ActorRef<Topic.Command<LeaseNoticePublished>> leaseNotices,
      ActorRef<MarketGate.Message> gate,
      ActorRef<Topic.Command<ViewPublished>> views,
      MarketMeters meters,
      Executor clearing) {}

  /** A market that clears every {@code interval} and reports through {@code links}. */
  public static Behavior<Command> create(
      GpuModel model,
      SlotClock clock,
      PricingRule pricing,
      Duration interval,
      LongSupplier wallClock,
      Links links) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  Market m = new Market(persistenceId(model), clock, pricing, wallClock);
                  m.context = ctx;
                  m.clearing = links.clearing() != null ? links.clearing() : clearingExecutor(ctx);
                  m.model = model.name();
                  m.epochs = links.epochs();
                  m.revocations = links.revocations();
                  m.leaseNotices = links.leaseNotices();
                  m.timers = timers;
                  m.interval = interval;
                  m.gate = links.gate();
                  m.views = links.views();
                  m.meters = links.meters();
                  com.typesafe.config.Config config = ctx.getSystem().settings().config();
                  m.repairPass = config.hasPath(REPAIR_PASS) && config.getBoolean(REPAIR_PASS);
                  m.repackPhase =
                      m.repairPass
                          && (!config.hasPath(REPACK_PHASE) || config.getBoolean(REPACK_PHASE));
                  if (config.hasPath("surplus.markets")) {
                    List<String> models =
                        config.getConfigList("surplus.markets").stream()
                            .map(c -> new GpuModel(c.getString("gpu-model")).name())
                            .toList();
                    m.rank = models.indexOf(model.name());
                    m.markets = models.size();
                  }
                  return m;
                }));
  }

  /** Where epochs clear: {@code surplus.clearing-dispatcher} when configured, else Pekko's own. */
  private static Executor clearingExecutor(ActorContext<Command> ctx) {
    String path = "surplus.clearing-dispatcher";
    DispatcherSelector selector =
        ctx.getSystem().settings().config().hasPath(path)
            ? DispatcherSelector.fromConfig(path)
            : DispatcherSelector.blocking();
    return ctx.getSystem().dispatchers().lookup(selector);
  }

  /** The setting that turns the engine's repair pass on ({@link ClearingRuleSet}). */
  public static final String REPAIR_PASS = "surplus.repair-pass";

  /**
   * Whether this market's epochs should run the repair pass (from {@link #REPAIR_PASS}); a market
   * without an epoch timer never changes its rule.
   */
  private boolean repairPass;

  /**
   * The setting that ends the repair pass with its re-pack phase (on by default; it applies only
   * with {@link #REPAIR_PASS} on).
   */
  public static final String REPACK_PHASE = "surplus.repack-phase";

  /** Whether this market's repair pass should end with the re-pack phase. */
  private boolean repackPhase;

  /** The market's actor context and clearing thread; null in a market without an epoch timer. */
  private ActorContext<Command> context;

  private Executor clearing;

  /**
   * Clearings started by this market (this object outlives the entity's own restarts after a failed
   * write); only the result of the latest one is applied, so a result from before a restart never
   * is. A new object (after the supervisor restarts the market) starts again from a random number.
   */
  private long clearings = java.util.concurrent.ThreadLocalRandom.current().nextLong();

  /**
   * The book the last epoch's result replaced, which nobody reads any more: the next epoch's copy
   * is made in it ({@link OrderBook#copyInto}), so an epoch at a full book does not allocate a new
   * book of arrays for the collector to carry. Null while a clearing has it, or before the first.
   */
  private OrderBook spare;

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Market.class);

  /** An epoch slower than this from its tick to its result written is logged, stage by stage. */
  private static final long SLOW_EPOCH_NANOS = TimeUnit.MILLISECONDS.toNanos(150);

  /**
   * When the epoch under way was cut by its tick, and when its cut was written (System.nanoTime),
   * for the slow-epoch log; the clearing's own stages come back with its result.
   */
  private long tickedAt;

  private long cutWrittenAt;

  /**
   * Replies owed to commands written while an epoch cleared whose answer depends on it (a cancel,
   * an extension): each waits for its change to be applied after the epoch, by its index in the
   * pending changes.
   */
  private final List<Deferred> deferred = new ArrayList<>();

  private record Deferred(int index, java.util.function.Consumer<ResultCode> reply) {}

  private MarketMeters meters;

  private ActorRef<Topic.Command<ViewPublished>> views;

  /** The last view published, the changes and slot it was made at, and when it was sent. */
  private ViewPublished lastView;

  private long lastViewChanges = -1;
  private int lastViewSlot;
  private long lastViewSentAt;

  /**
   * Publishes the view when the book changed or the current slot moved since the last one (or
   * {@code force}, after an epoch), else the last one again, as of now, once {@link
   * #VIEW_HEARTBEAT} has passed. Making a view costs a pass over the book, at most once per epoch
   * interval.
   */
  private void publishView(State state, boolean force) {
    if (views == null) {
      return;
    }
    long now = wallClock.getAsLong();
    int slot = clock.slotAtOrBefore(now);
    if (force || lastView == null || state.changes != lastViewChanges || slot != lastViewSlot) {
      lastView =
          new ViewPublished(
              model,
              state.book.epoch(),
              now,
              state.lastEpoch == null ? 0 : state.lastEpoch.clearingPrice(),
              state.book.depth(now),
              state.book.windowProfiles(now));
      lastViewChanges = state.changes;
      lastViewSlot = slot;
    } else if (now - lastViewSentAt < VIEW_HEARTBEAT.toMillis()) {
      return;
    } else {
      // nothing moved since: the same view holds as of now (an idle market skips its epochs, so
      // this is how a reader learns that the view is current)
      lastView =
          new ViewPublished(
              model,
              lastView.epoch(),
              now,
              lastView.lastClearingPrice(),
              lastView.depth(),
              lastView.windows());
    }
    lastViewSentAt = now;
    views.tell(Topic.publish(lastView));
  }

  private ActorRef<MarketGate.Message> gate;

  private TimerScheduler<Command> timers;
  private Duration interval;

  /** This market's place among the configured markets, and how many there are (-1, 0: unknown). */
  private int rank = -1;

  private int markets;

  /**
   * How long from {@code nowMillis} to this market's next epoch tick. The markets take turns: the
   * i-th of n ticks at {@code i / n} of the interval past each multiple of it on the wall clock, so
   * their epochs, and their deliveries to every subscriber, never fall on the same instant and a
   * read waits behind one market's at most. A market not in the list ticks one interval from now.
   */
  Duration firstTick(long nowMillis) {
    return firstTick(nowMillis, interval, rank, markets);
  }

  static Duration firstTick(long nowMillis, Duration interval, int rank, int markets) {
    if (rank < 0 || markets <= 0) {
      return interval;
    }
    long period = interval.toMillis();
    long phase = period * rank / markets;
    long wait = Math.floorMod(phase - nowMillis, period);
    return Duration.ofMillis(wait == 0 ? period : wait);
  }

  /**
   * Starts the epoch timer once the book is recovered, and again after every restart, and finishes
   * an epoch the journal cut but never cleared: a restart (after a failed write) cancels an actor's
   * timers, and the timer must outlive it.
   */
  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              if (timers != null) {
                timers.startTimerAtFixedRate(
                    Tick.INSTANCE, Tick.INSTANCE, firstTick(wallClock.getAsLong()), interval);
                if (views != null) {
                  timers.startTimerWithFixedDelay(ViewTick.INSTANCE, interval);
                }
              }
              publishView(state, true);
              if (gate != null) {
                gate.tell(new MarketGate.MarketRecovered(state.book.epoch()));
              }
              // answers owed from before a restart are lost with it (their callers time out)
              deferred.clear();
              snapshotAt = -1;
              // the journal ends inside an epoch (its result was never written): clear that cut
              finishCut(state);
            })
        .onSignal(
            PreRestart.instance(),
            state -> {
              if (gate != null) {
                gate.tell(MarketGate.MarketFailed.INSTANCE);
              }
            })
        .build();
  }

  private String model;
  private ActorRef<Topic.Command<EpochPublished>> epochs;

  /** What the live stream tells of a revocation: anonymous, no lease or account ids. */
  public record RevocationPublished(
      String gpuModel,
      long atMillis,
      RevocationKind kind,
      int leasesCut,
      int nodesCut,
      long firstPreemptAtMillis)
      implements CborSerializable {}

  private void publishRevocation(WindowRevoked e) {
    if (revocations == null) {
      return;
    }
    int nodes = 0;
    long first = Long.MAX_VALUE;
    for (Cut c : e.cuts()) {
      nodes += c.lease().nodes();
      first = Math.min(first, c.preemptAtMillis());
    }
    if (leaseNotices != null) {
      for (Cut c : e.cuts()) {
        leaseNotices.tell(Topic.publish(new LeaseNoticePublished(model, e.number(), c)));
      }
    }
    revocations.tell(
        Topic.publish(
            new RevocationPublished(
                model,
                e.atMillis(),
                e.kind(),
                e.cuts().size(),
                nodes,
                e.cuts().isEmpty() ? 0 : first)));
  }

  private ActorRef<Topic.Command<RevocationPublished>> revocations;

  /**
   * A cut lease, for its bidder's private stream: published on {@link #LEASE_NOTICE_TOPIC} once the
   * revocation is durable, never replayed.
   */
  public record LeaseNoticePublished(String gpuModel, long revocation, Cut cut)
      implements CborSerializable {}

  /** The pub-sub topic of {@link LeaseNoticePublished}. */
  public static final String LEASE_NOTICE_TOPIC = "lease-notices";

  public static Behavior<Topic.Command<LeaseNoticePublished>> leaseNoticeTopic() {
    return Topic.create(LeaseNoticePublished.class, LEASE_NOTICE_TOPIC);
  }

  private ActorRef<Topic.Command<LeaseNoticePublished>> leaseNotices;

  /** The pub-sub topic of {@link RevocationPublished}. */
  public static final String REVOCATION_TOPIC = "market-revocations";

  public static Behavior<Topic.Command<RevocationPublished>> revocationTopic() {
    return Topic.create(RevocationPublished.class, REVOCATION_TOPIC);
  }

  private void publish(EpochCleared e) {
    if (epochs == null) {
      return;
    }
    int filled = 0;
    for (Lease l : e.leases()) {
      filled += l.nodes();
    }
    epochs.tell(
        Topic.publish(
            new EpochPublished(
                model,
                e.epoch(),
                e.atMillis(),
                e.clearingPrice(),
                e.leases().size(),
                filled,
                e.openBids(),
                e.reasonCounts())));
  }

  private Market(PersistenceId id, SlotClock clock, PricingRule pricing, LongSupplier wallClock) {
    super(
        id,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    this.clock = clock;
    this.pricing = pricing;
    this.wallClock = wallClock;
  }

  @Override
  public State emptyState() {
    return new State(new OrderBook(clock, pricing));
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return event instanceof EpochCleared
            || event instanceof WindowRevoked
            || event instanceof WindowOffered
            || event instanceof FeedWindowOffered
            || event instanceof WindowExtended
        ? Set.of(EPOCH_TAG)
        : Set.of();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(RETAIN_EVERY, 1);
  }

  /**
   * Where the last snapshot was taken, and how many open bids it held; -1 after a recovery, which
   * counts as a snapshot at the recovered sequence number (recovery may replay up to twice the
   * bound once after it).
   */
  private long snapshotAt = -1;

  private int snapshotOpen;

  /**
   * Snapshot when the events since the last snapshot are at least as many as that snapshot's open
   * bids, and at least {@link #SNAPSHOT_EVERY}: Redis's rule for rewriting its append-only file
   * (rewrite when the log has grown by 100% of its base). A book that grows from nothing snapshots
   * at 10,000, 20,000, 40,000, ... events; a steady book of {@code n} bids every {@code n} events.
   */
  @Override
  public boolean shouldSnapshot(State state, Event event, long sequenceNr) {
    if (snapshotAt < 0) {
      snapshotAt = sequenceNr - 1;
      snapshotOpen = state.book.openBids();
    }
    if (sequenceNr / RETAIN_EVERY > snapshotAt / RETAIN_EVERY) {
      // Pekko's retention snapshot was taken at the multiple of RETAIN_EVERY just passed
      tookSnapshot(sequenceNr / RETAIN_EVERY * RETAIN_EVERY, state.book.openBids());
    }
    if (sequenceNr - snapshotAt < Math.max(SNAPSHOT_EVERY, snapshotOpen)) {
      return false;
    }
    tookSnapshot(sequenceNr, state.book.openBids());
    return true;
  }

  private void tookSnapshot(long sequenceNr, int open) {
    snapshotAt = sequenceNr;
    snapshotOpen = open;
    if (meters != null) {
      meters.snapshot(open);
    }
  }

  /**
   * The book mutates in place, so a snapshot takes a copy of it here, in the entity; the snapshot
   * store renders the copy's image when it serializes the snapshot, on its own thread.
   */
  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return new BookSnapshot(
            state.book.copy(),
            Map.copyOf(state.feedSeq),
            state.revocations,
            state.cutAt,
            state.pending.stream().map(PendingChange::of).toList());
      }

      @Override
      public State fromJournal(Object from) {
        BookSnapshot b = (BookSnapshot) from;
        State s = new State(OrderBook.restore(b.image()));
        if (b.feedSeq() != null) {
          s.feedSeq.putAll(b.feedSeq());
        }
        s.revocations = b.revocations();
        s.cutAt = b.cutAt();
        if (b.pending() != null) {
          b.pending().forEach(p -> s.hold(p.event()));
        }
        return s;
      }
    };
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Stop.class, (s, c) -> Effect().stop())
        .onCommand(PlaceBid.class, (s, c) -> write(s, List.of(c), 0, null))
        .onCommand(PlaceBids.class, (s, c) -> write(s, c.bids(), c.batch(), c.done()))
        .onCommand(CancelBid.class, (s, c) -> write(s, List.of(c), 0, null))
        .onCommand(OfferWindow.class, this::onOfferWindow)
        .onCommand(FeedOffer.class, (s, c) -> feed(s, List.of(c), o -> c.replyTo().tell(o.get(0))))
        .onCommand(
            ExtendWindow.class, (s, c) -> feed(s, List.of(c), o -> c.replyTo().tell(o.get(0))))
        .onCommand(
            RevokeWindow.class, (s, c) -> feed(s, List.of(c), o -> c.replyTo().tell(o.get(0))))
        .onCommand(
            ApplyFeed.class,
            (s, c) -> feed(s, c.events(), o -> c.replyTo().tell(new FeedOutcomes(o))))
        .onCommand(ClearEpoch.class, this::onClearEpoch)
        .onCommand(Tick.class, this::onTick)
        .onCommand(EpochComputed.class, this::onEpochComputed)
        .onCommand(EpochFailed.class, this::onEpochFailed)
        .onCommand(
            ViewTick.class,
            (state, t) -> {
              publishView(state, false);
              return Effect().none();
            })
        .onCommand(
            GetBid.class,
            (state, c) ->
                state.cutAt != null
                    ? Effect().stash()
                    : Effect()
                        .reply(
                            c.replyTo(),
                            new BidSummary(
                                state.book.bid(c.bidId()), state.book.reason(c.bidId()))))
        .onCommand(
            QuoteBid.class,
            (state, c) -> {
              if (state.cutAt != null) {
                return Effect().stash();
              }
              if (QUOTES.getQueue().remainingCapacity() == 0) { // busy: not even the copy
                c.replyTo().tell(new Quoted(null, true));
                return Effect().none();
              }
              OrderBook copy = state.book.copy();
              try {
                QUOTES.execute(
                    () -> {
                      Quoted answer;
                      try {
                        answer =
                            new Quoted(
                                io.surplus.engine.whatif.Quote.of(copy, c.bid(), c.atMillis()),
                                false);
                      } catch (RuntimeException e) { // a bug: the caller gets a 503, not silence
                        LOG.error("quote failed", e);
                        answer = new Quoted(null, true);
                      }
                      c.replyTo().tell(answer);
                    });
              } catch (java.util.concurrent.RejectedExecutionException busy) {
                c.replyTo().tell(new Quoted(null, true));
              }
              return Effect().none();
            })
        .onCommand(
            GetImage.class,
            (state, c) ->
                state.cutAt != null
                    ? Effect().stash()
                    : Effect().reply(c.replyTo(), new Image(state.book.snapshot())))
        .build();
  }

  /**
   * Writes bids and cancels in one journal write: each is checked in order, against the book, the
   * changes since the cut and the commands before it. A bid that reaches the market after its
   * deadline (its caller has timed out and answered 503) is dropped unwritten and unanswered. Every
   * command gets its own outcome once the write is durable; a cancel written while an epoch clears
   * (its bid may fill in that epoch) gets what applying it after the epoch found. A batch's {@code
   * done}, if any, hears each command's result in order.
   */
  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> write(
      State state, List<Command> commands, long batch, ActorRef<BatchWritten> done) {
    List<Event> events = new ArrayList<>(commands.size());
    List<java.util.function.Consumer<ResultCode>> accepted = new ArrayList<>(commands.size());
    List<ResultCode> results = new ArrayList<>(commands.size());
    Set<Long> ids = new HashSet<>();
    Set<Long> cancelled = new HashSet<>();
    long now = System.currentTimeMillis();
    for (Command command : commands) {
      if (command instanceof CancelBid x) {
        long id = x.bidId();
        boolean open =
            (state.book.bid(id) != null || state.pendingBids.contains(id) || ids.contains(id))
                && !cancelled.contains(id);
        ResultCode rc = open ? ResultCode.OK : ResultCode.UNKNOWN_BID;
        results.add(rc);
        if (open) {
          cancelled.add(id);
          events.add(new BidCancelled(id));
          accepted.add(code -> answer(x.replyTo(), code));
        } else {
          answer(x.replyTo(), rc);
        }
        continue;
      }
      PlaceBid p = (PlaceBid) command;
      if (now > p.deadlineMillis()) {
        results.add(null); // its caller has given up and answered 503: write nothing for it
        continue;
      }
      ResultCode rc = state.checkPlace(p.bid(), p.atMillis());
      if (rc == ResultCode.OK && !ids.add(p.bid().id())) {
        rc = ResultCode.DUPLICATE_ID;
      }
      results.add(rc);
      if (rc == ResultCode.OK) {
        events.add(new BidPlaced(p.bid(), p.atMillis()));
        accepted.add(code -> answer(p.replyTo(), code));
      } else {
        answer(p.replyTo(), rc);
      }
    }
    long placed = events.stream().filter(e -> e instanceof BidPlaced).count();
    BatchWritten written = new BatchWritten(batch, (int) placed, results);
    if (events.isEmpty()) {
      return done == null ? Effect().none() : Effect().reply(done, written);
    }
    org.apache.pekko.persistence.typed.javadsl.EffectBuilder<Event, State> persisted =
        Effect()
            .persist(events)
            .thenRun(
                s -> {
                  // while an epoch clears every change waits in order; a cancel is answered with
                  // what
                  // applying it after the epoch found (its bid may fill in that epoch)
                  int first = s.cutAt != null ? s.pending.size() - events.size() : -1;
                  for (int k = 0; k < events.size(); k++) {
                    java.util.function.Consumer<ResultCode> reply = accepted.get(k);
                    if (first >= 0 && events.get(k) instanceof BidCancelled) {
                      deferred.add(new Deferred(first + k, reply));
                    } else {
                      reply.accept(ResultCode.OK);
                    }
                  }
                });
    return done == null ? persisted : persisted.thenReply(done, s -> written);
  }

  /** Tells {@code to} the outcome, unless nobody asked (a bid of a gate's batch request). */
  private static void answer(ActorRef<Outcome> to, ResultCode code) {
    if (to != null) {
      to.tell(new Outcome(code));
    }
  }

  /** Owes the command whose change was just written (the last pending one) its answer. */
  private void defer(State state, java.util.function.Consumer<ResultCode> reply) {
    deferred.add(new Deferred(state.pending.size() - 1, reply));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onOfferWindow(
      State state, OfferWindow c) {
    ResultCode rc = state.checkOffer(c.window(), c.atMillis());
    if (rc != ResultCode.OK) {
      return Effect().reply(c.replyTo(), new Outcome(rc));
    }
    return Effect()
        .persist(new WindowOffered(c.window(), c.pool(), c.atMillis()))
        .thenReply(c.replyTo(), s -> new Outcome(ResultCode.OK));
  }

  /**
   * Writes a provider's feed events together (see {@link ApplyFeed}); {@code reply} hears the
   * outcomes of those tried, once they are durable. An event whose sequence this market applied
   * before is a duplicate, written again never. An extension written while an epoch clears is
   * checked against the book at the cut and answered after the epoch, where one that no longer
   * holds (another moved the end further) changes nothing and is refused. A revocation runs in the
   * command handler (the engine checks before it changes anything), so its event carries the cuts;
   * the event's number tells replay to run the same revocation and the live handler that it ran.
   */
  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> feed(
      State state, List<Command> commands, java.util.function.Consumer<List<FeedOutcome>> reply) {
    boolean cut = state.cutAt != null;
    if (cut && commands.get(0) instanceof RevokeWindow) {
      return Effect().stash(); // its cuts depend on the leases the epoch makes
    }
    List<Event> events = new ArrayList<>(commands.size());
    List<FeedOutcome> outcomes = new ArrayList<>(commands.size());
    List<WindowRevoked> revoked = new ArrayList<>(1);
    Set<Long> named = new HashSet<>();
    boolean answerAfterEpoch = false;
    for (Command command : commands) {
      if (!named.add(windowOf(command))
          || command instanceof RevokeWindow && (cut || !events.isEmpty())) {
        break;
      }
      FeedOutcome outcome;
      if (command instanceof FeedOffer c) {
        outcome = offer(state, c, events);
      } else if (command instanceof ExtendWindow c) {
        outcome = extend(state, c, events);
        if (outcome == null) {
          answerAfterEpoch = true;
          break;
        }
      } else {
        outcome = revoke(state, (RevokeWindow) command, events, revoked);
      }
      outcomes.add(outcome);
      if (outcome.code() != ResultCode.OK) {
        break;
      }
    }
    if (events.isEmpty()) {
      reply.accept(outcomes);
      return Effect().none();
    }
    boolean deferred = answerAfterEpoch;
    if (meters != null) {
      meters.feedWritten(events.size());
    }
    return Effect()
        .persist(events)
        .thenRun(
            s -> {
              revoked.forEach(this::publishRevocation);
              if (!deferred) {
                reply.accept(outcomes);
                return;
              }
              defer(
                  s,
                  code -> {
                    outcomes.add(
                        code == ResultCode.OK ? FeedOutcome.APPLIED : FeedOutcome.refused(code));
                    reply.accept(outcomes);
                  });
            });
  }

  private static long windowOf(Command feed) {
    if (feed instanceof FeedOffer c) {
      return c.window().id();
    }
    if (feed instanceof ExtendWindow c) {
      return c.windowId();
    }
    if (feed instanceof RevokeWindow c) {
      return c.windowId();
    }
    throw new IllegalArgumentException("not a feed event: " + feed);
  }

  /** A new window from the feed: its event joins {@code events}, or the outcome refuses it. */
  private static FeedOutcome offer(State state, FeedOffer c, List<Event> events) {
    if (state.seen(c.window().provider(), c.seq())) {
      return FeedOutcome.DUPLICATE;
    }
    ResultCode rc = state.checkOffer(c.window(), c.atMillis());
    if (rc != ResultCode.OK) {
      return FeedOutcome.refused(rc);
    }
    events.add(new FeedWindowOffered(c.window(), c.pool(), c.seq(), c.atMillis()));
    return FeedOutcome.APPLIED;
  }

  /**
   * An extension: its event joins {@code events}, or the outcome refuses it; null while an epoch
   * clears, when it is written now and answered after the epoch.
   */
  private static FeedOutcome extend(State state, ExtendWindow c, List<Event> events) {
    if (state.seen(c.provider(), c.seq())) {
      return FeedOutcome.DUPLICATE;
    }
    WindowSpec w = state.window(c.windowId());
    if (w == null || w.provider() != c.provider()) {
      return FeedOutcome.refused(ResultCode.UNKNOWN_WINDOW);
    }
    WindowExtended e =
        new WindowExtended(c.provider(), c.windowId(), c.newEndSlot(), c.seq(), c.atMillis());
    if (state.cutAt != null) {
      events.add(e);
      return null;
    }
    ResultCode rc = state.book.checkExtend(c.windowId(), c.newEndSlot(), c.atMillis());
    if (rc != ResultCode.OK) {
      return FeedOutcome.refused(rc);
    }
    events.add(e);
    return FeedOutcome.APPLIED;
  }

  /**
   * A revocation, run on the book now: its event joins {@code events}, or the outcome refuses it.
   */
  private FeedOutcome revoke(
      State state, RevokeWindow c, List<Event> events, List<WindowRevoked> revoked) {
    if (state.seen(c.provider(), c.seq())) {
      return FeedOutcome.DUPLICATE;
    }
    WindowSpec w = state.book.window(c.windowId());
    if (w == null || w.provider() != c.provider()) {
      return FeedOutcome.refused(ResultCode.UNKNOWN_WINDOW);
    }
    // nodes are taken from what the window offers when the revocation starts (or when the window
    // starts, if that is later)
    long from = Math.max(c.fromMillis(), c.atMillis());
    if (!clock.covers(from)) {
      return FeedOutcome.refused(ResultCode.INVALID_REVOCATION);
    }
    int slot = Math.max(clock.slotAtOrBefore(from), w.startSlot());
    int offered = state.book.offeredNodes(c.windowId(), slot);
    int keep = c.takeNodes() <= 0 ? 0 : offered - c.takeNodes();
    if (keep < 0) {
      return FeedOutcome.refused(ResultCode.INVALID_REVOCATION);
    }
    RevocationPlan plan =
        state.book.revoke(c.windowId(), keep, c.fromMillis(), c.kind(), c.atMillis());
    if (plan.code() != ResultCode.OK) {
      return FeedOutcome.refused(plan.code());
    }
    state.revocations++;
    WindowRevoked e =
        new WindowRevoked(
            state.revocations,
            c.provider(),
            c.windowId(),
            keep,
            c.fromMillis(),
            c.kind(),
            c.seq(),
            c.atMillis(),
            plan.cuts());
    events.add(e);
    revoked.add(e);
    return new FeedOutcome(ResultCode.OK, false, plan.cuts());
  }

  /**
   * Clears at once, in the command handler (for tests and tools; the timer's epochs clear off the
   * actor), so the event can carry the outcome, and persists it. The event handler then finds the
   * book already at that epoch and leaves it; on replay it runs the same clearing. If the write
   * fails, Pekko stops the entity and the next start recovers from the journal, which never saw
   * this epoch. Waits while a timer's epoch clears.
   */
  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> onClearEpoch(
      State state, ClearEpoch c) {
    if (state.cutAt != null) {
      return Effect().stash();
    }
    long started = System.nanoTime();
    EpochResult r = state.book.clear(c.atMillis());
    measured(state, r, System.nanoTime() - started);
    EpochCleared e = EpochCleared.of(c.atMillis(), r);
    return Effect()
        .persist(e)
        .thenRun(s -> published(s, e))
        .thenReply(
            c.replyTo(),
            s -> new EpochSummary(r.epoch(), r.clearingPrice(), r.leases().size(), r.openBids()));
  }

  /** A durable epoch goes out: the market's view first, then the epoch to the live stream. */
  private void published(State state, EpochCleared e) {
    if (meters != null) {
      meters.durable(wallClock.getAsLong() - e.atMillis());
    }
    publishView(state, true);
    publish(e);
  }

  private void measured(State state, EpochResult r, long nanos) {
    state.lastEpoch = r;
    if (meters != null) {
      meters.epoch(r, nanos);
    }
  }

  /**
   * The epoch timer: when a bid is open, no epoch is clearing and the book has something new to try
   * ({@link OrderBook#hasWork}: a change since the last epoch, a new slot, a bid expiring), writes
   * the cut and meanwhile clears a copy of the book on the clearing thread: the result is taken
   * only once the cut is written (a market takes no command while it writes), and dropped with the
   * market if the write fails, so a cut that never became durable never clears. An epoch with
   * nothing new to try is never written, so replay never runs it either. Bids, cancels and feed
   * changes go on being written meanwhile; they wait in the state's pending changes for the epoch's
   * result.
   */
  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> onTick(
      State state, Tick t) {
    if (state.cutAt == null
        && (state.book.repair() != repairPass || state.book.repack() != repackPhase)) {
      // the next tick clears with it
      return Effect().persist(new ClearingRuleSet(repairPass, repackPhase));
    }
    long at = wallClock.getAsLong();
    if (state.cutAt != null || state.book.openBids() == 0 || !state.book.hasWork(at)) {
      return Effect().none(); // clearing, or nothing new to try: no epoch is written
    }
    tickedAt = System.nanoTime();
    // the book as of the cut (the cut's event changes nothing in it) clears while the cut is
    // written; its result is handled once the cut is durable (commands wait during a write)
    clearCopy(state.book, at);
    return Effect().persist(new EpochCut(at)).thenRun(s -> cutWrittenAt = System.nanoTime());
  }

  /** At recovery: an epoch the journal cut but never cleared is cleared again. */
  private void finishCut(State state) {
    if (state.cutAt != null) {
      clearCopy(state.book, state.cutAt);
    }
  }

  /**
   * Clears a copy of {@code book} as of {@code at} on the clearing thread; the result comes back.
   */
  private void clearCopy(OrderBook book, long at) {
    if (context == null) {
      return;
    }
    OrderBook copy = book.copyInto(spare);
    spare = null; // the clearing thread's now
    long copiedAt = System.nanoTime();
    long token = ++clearings;
    context.pipeToSelf(
        CompletableFuture.supplyAsync(
            () -> {
              long started = System.nanoTime();
              EpochResult r = copy.clear(at);
              return new EpochComputed(
                  token, copy, r, copiedAt, started, System.nanoTime() - started);
            },
            clearing),
        (done, failure) -> failure == null ? done : new EpochFailed(token, failure));
  }

  /**
   * The cut's copy has cleared: it becomes the book, the epoch is written, and the changes that
   * waited are applied to it (by the event handler, as replay does), then answered.
   */
  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> onEpochComputed(
      State state, EpochComputed c) {
    if (c.token() != clearings || state.cutAt == null) {
      return Effect().none(); // a clearing started before the latest one (or before a restart)
    }
    spare = state.book; // read by nobody from here on: every reader copies it or reads state.book
    state.book = c.cleared();
    long computedAt = System.nanoTime();
    measured(state, c.result(), c.nanos());
    EpochCleared e = EpochCleared.of(state.cutAt, c.result());
    return Effect()
        .persist(e)
        .thenRun(
            s -> {
              logIfSlow(e, c, computedAt);
              List<Deferred> owed = List.copyOf(deferred);
              deferred.clear();
              for (Deferred d : owed) {
                if (d.index() < s.applied.length) {
                  d.reply().accept(s.applied[d.index()]);
                }
              }
              published(s, e);
            })
        .thenUnstashAll();
  }

  /**
   * Logs an epoch that took more than {@link #SLOW_EPOCH_NANOS} from its tick to its result
   * written, with the time of each stage: what a subscriber's lag is made of, to read beside the
   * metrics.
   */
  private void logIfSlow(EpochCleared e, EpochComputed c, long computedAt) {
    long now = System.nanoTime();
    long ticked = tickedAt;
    tickedAt = 0; // an epoch cleared again at recovery has no tick of its own
    if (ticked == 0 || now - ticked < SLOW_EPOCH_NANOS) {
      return;
    }
    LOG.warn(
        "slow epoch {} of {}: its result written {} ms after its tick; from the tick, in ms:"
            + " book copied {}, cleared from {} to {}, cut written {}, result taken {}",
        e.epoch(),
        model,
        millis(now - ticked),
        millis(c.copiedAt() - ticked),
        millis(c.startedNanos() - ticked),
        millis(c.startedNanos() + c.nanos() - ticked),
        cutWrittenAt >= ticked ? millis(cutWrittenAt - ticked) : "not since the tick",
        millis(computedAt - ticked));
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> onEpochFailed(
      State state, EpochFailed f) {
    if (f.token() != clearings) {
      return Effect().none();
    }
    throw new IllegalStateException(
        "clearing the epoch cut at " + state.cutAt + " failed", f.cause());
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return (state, event) -> {
      apply(state, event);
      state.changes++;
      return state;
    };
  }

  /**
   * Applies an event. Between an epoch's cut and its result, a change to the book waits in the
   * pending changes (a feed window's sequence counts at once: the window will be applied); the
   * epoch's result applies them in order.
   */
  private void apply(State state, Event event) {
    if (event instanceof ClearingRuleSet r) {
      state.book = state.book.copy(r.repair(), r.repack()); // written outside an epoch only
    } else if (event instanceof EpochCut c) {
      state.cutAt = c.atMillis();
    } else if (event instanceof EpochCleared e) {
      if (state.book.epoch() < e.epoch()) {
        state.lastEpoch = state.book.clear(e.atMillis());
      }
      state.cutAt = null;
      ResultCode[] applied = new ResultCode[state.pending.size()];
      for (int i = 0; i < applied.length; i++) {
        applied[i] = applyToBook(state, state.pending.get(i));
      }
      state.applied = applied;
      state.pending.clear();
      state.pendingBids.clear();
      state.pendingWindows.clear();
    } else if (event instanceof WindowRevoked e) {
      if (state.revocations < e.number()) {
        state.book.revoke(e.windowId(), e.keepNodes(), e.fromMillis(), e.kind(), e.atMillis());
        state.revocations = e.number();
      }
      state.advance(e.provider(), e.seq());
    } else if (state.cutAt != null) {
      if (event instanceof FeedWindowOffered f) {
        state.advance(f.window().provider(), f.seq());
      }
      state.hold(event);
    } else {
      applyToBook(state, event);
    }
  }

  /** Applies a change to the book; what the book answered (a change that no longer holds: none). */
  private static ResultCode applyToBook(State state, Event event) {
    if (event instanceof BidPlaced e) {
      return state.book.place(e.bid(), e.atMillis());
    }
    if (event instanceof BidCancelled e) {
      return state.book.cancel(e.bidId());
    }
    if (event instanceof FeedWindowOffered e) {
      state.advance(e.window().provider(), e.seq());
      return state.book.offer(e.window(), e.atMillis());
    }
    if (event instanceof WindowOffered e) {
      return state.book.offer(e.window(), e.atMillis());
    }
    if (event instanceof WindowExtended e) {
      ResultCode rc = state.book.extend(e.windowId(), e.newEndSlot(), e.atMillis());
      if (rc == ResultCode.OK) {
        state.advance(e.provider(), e.seq());
      }
      return rc;
    }
    throw new IllegalArgumentException("not a change to the book: " + event);
  }
}
