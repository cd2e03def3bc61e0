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
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
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

  /** The book, mutated in place by the event handler only. */
  public static final class State {
    final OrderBook book;
    EpochResult lastEpoch;

    /** Per provider, the highest feed sequence number this market has applied. */
    final Map<Long, Long> feedSeq = new HashMap<>();

    /** Revocations applied to the book; orders them so replay applies each exactly once. */
    long revocations;

    /** Events applied since this state was made: tells the view whether the book changed. */
    long changes;

    State(OrderBook book) {
      this.book = book;
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
    @JsonSubTypes.Type(value = GetImage.class, name = "GetImage"),
    @JsonSubTypes.Type(value = FeedOffer.class, name = "FeedOffer"),
    @JsonSubTypes.Type(value = ExtendWindow.class, name = "ExtendWindow"),
    @JsonSubTypes.Type(value = RevokeWindow.class, name = "RevokeWindow")
  })
  public sealed interface Command extends CborSerializable {}

  /**
   * Places a bid. One that reaches the market after {@code deadlineMillis} (its caller has timed
   * out and answered 503) is dropped unwritten and unanswered.
   */
  public record PlaceBid(BidSpec bid, long atMillis, long deadlineMillis, ActorRef<Outcome> replyTo)
      implements Command {

    /** A bid without a deadline. */
    public static PlaceBid of(BidSpec bid, long atMillis, ActorRef<Outcome> replyTo) {
      return new PlaceBid(bid, atMillis, Long.MAX_VALUE, replyTo);
    }
  }

  /**
   * Bids gathered by a {@link MarketGate} into one journal write: each is checked in order (against
   * the book and the bids before it in the batch); the accepted ones persist together, then every
   * bid gets its own outcome and the gate hears {@code done}.
   */
  public record PlaceBids(long batch, List<PlaceBid> bids, ActorRef<BatchWritten> done)
      implements Command {}

  public record CancelBid(long bidId, ActorRef<Outcome> replyTo) implements Command {}

  public record OfferWindow(WindowSpec window, long atMillis, ActorRef<Outcome> replyTo)
      implements Command {}

  public record ClearEpoch(long atMillis, ActorRef<EpochSummary> replyTo) implements Command {}

  public record GetBid(long bidId, ActorRef<BidSummary> replyTo) implements Command {}

  /** The epoch timer fired: clear now if any bid is open. */
  enum Tick implements Command {
    INSTANCE
  }

  /** The view timer fired: publish the market's view if the book or the current slot moved. */
  enum ViewTick implements Command {
    INSTANCE
  }

  /**
   * A window from a provider's feed, with the provider's sequence number: a sequence this market
   * has already applied for the provider is a duplicate, answered without writing anything.
   */
  public record FeedOffer(WindowSpec window, long seq, long atMillis, ActorRef<FeedOutcome> replyTo)
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

  /** A batch of {@link PlaceBids} is written (or wholly rejected): {@code accepted} of its bids. */
  public record BatchWritten(long batch, int accepted) implements CborSerializable {}

  /** A snapshot: the book's canonical image, taken in the entity, immutable once taken. */
  public record BookSnapshot(byte[] image, Map<Long, Long> feedSeq, long revocations)
      implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  public record BidPlaced(BidSpec bid, long atMillis) implements Event {}

  public record BidCancelled(long bidId) implements Event {}

  public record WindowOffered(WindowSpec window, long atMillis) implements Event {}

  /** A window from a provider's feed at sequence {@code seq}. */
  public record FeedWindowOffered(WindowSpec window, long seq, long atMillis) implements Event {}

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
   * The tag of {@link EpochCleared}, the only tagged event: the read side follows epochs, and tag
   * writes are synchronous, so bids and windows stay untagged and off that cost.
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

  /** Events between snapshots; two snapshots are kept. */
  public static final int SNAPSHOT_EVERY = 1000;

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
        model, clock, pricing, interval, wallClock, new Links(null, null, null, null, null, null));
  }

  /**
   * Where a market reports, each part optional (null in a test's market): the live stream's topics
   * of epochs, revocations and cut leases; its gate, told when the market has recovered and when it
   * fails; the topic of its public view; its meters.
   */
  public record Links(
      ActorRef<Topic.Command<EpochPublished>> epochs,
      ActorRef<Topic.Command<RevocationPublished>> revocations,
      ActorRef<Topic.Command<LeaseNoticePublished>> leaseNotices,
      ActorRef<MarketGate.Message> gate,
      ActorRef<Topic.Command<ViewPublished>> views,
      MarketMeters meters) {}

  /** A market that clears every {@code interval} and reports through {@code links}. */
  public static Behavior<Command> create(
      GpuModel model,
      SlotClock clock,
      PricingRule pricing,
      Duration interval,
      LongSupplier wallClock,
      Links links) {
    return Behaviors.withTimers(
        timers -> {
          Market m = new Market(persistenceId(model), clock, pricing, wallClock);
          m.model = model.name();
          m.epochs = links.epochs();
          m.revocations = links.revocations();
          m.leaseNotices = links.leaseNotices();
          m.timers = timers;
          m.interval = interval;
          m.gate = links.gate();
          m.views = links.views();
          m.meters = links.meters();
          return m;
        });
  }

  private MarketMeters meters;

  private ActorRef<Topic.Command<ViewPublished>> views;

  /** The last view published, the changes and slot it was made at, and when it was sent. */
  private ViewPublished lastView;

  private long lastViewChanges = -1;
  private int lastViewSlot;
  private long lastViewSentAt;

  /**
   * Publishes the view when the book changed or the current slot moved since the last one (or
   * {@code force}, after an epoch), else the last one again once {@link #VIEW_HEARTBEAT} has
   * passed. Making a view costs a pass over the book, at most once per epoch interval.
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
    }
    lastViewSentAt = now;
    views.tell(Topic.publish(lastView));
  }

  private ActorRef<MarketGate.Message> gate;

  private TimerScheduler<Command> timers;
  private Duration interval;

  /**
   * Starts the epoch timer once the book is recovered, and again after every restart: a restart
   * (after a failed write) cancels an actor's timers, and the timer must outlive it.
   */
  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              if (timers != null) {
                timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
                if (views != null) {
                  timers.startTimerWithFixedDelay(ViewTick.INSTANCE, interval);
                }
              }
              publishView(state, true);
              if (gate != null) {
                gate.tell(new MarketGate.MarketRecovered(state.book.epoch()));
              }
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
    return event instanceof EpochCleared || event instanceof WindowRevoked
        ? Set.of(EPOCH_TAG)
        : Set.of();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
  }

  /**
   * The book mutates in place, so a snapshot is its byte image taken here, in the entity, before
   * the snapshot store serializes it on another thread.
   */
  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return new BookSnapshot(
            state.book.snapshot(), Map.copyOf(state.feedSeq), state.revocations);
      }

      @Override
      public State fromJournal(Object from) {
        BookSnapshot b = (BookSnapshot) from;
        State s = new State(OrderBook.restore(b.image()));
        if (b.feedSeq() != null) {
          s.feedSeq.putAll(b.feedSeq());
        }
        s.revocations = b.revocations();
        return s;
      }
    };
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(PlaceBid.class, this::onPlaceBid)
        .onCommand(PlaceBids.class, this::onPlaceBids)
        .onCommand(CancelBid.class, this::onCancelBid)
        .onCommand(OfferWindow.class, this::onOfferWindow)
        .onCommand(FeedOffer.class, this::onFeedOffer)
        .onCommand(ExtendWindow.class, this::onExtend)
        .onCommand(RevokeWindow.class, this::onRevoke)
        .onCommand(ClearEpoch.class, this::onClearEpoch)
        .onCommand(Tick.class, this::onTick)
        .onCommand(
            ViewTick.class,
            (state, t) -> {
              publishView(state, false);
              return Effect().none();
            })
        .onCommand(
            GetBid.class,
            (state, c) ->
                Effect()
                    .reply(
                        c.replyTo(),
                        new BidSummary(state.book.bid(c.bidId()), state.book.reason(c.bidId()))))
        .onCommand(
            GetImage.class,
            (state, c) -> Effect().reply(c.replyTo(), new Image(state.book.snapshot())))
        .build();
  }

  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> onPlaceBid(
      State state, PlaceBid c) {
    if (System.currentTimeMillis() > c.deadlineMillis()) {
      return Effect().none();
    }
    ResultCode rc = state.book.checkPlace(c.bid(), c.atMillis());
    if (rc != ResultCode.OK) {
      return Effect().reply(c.replyTo(), new Outcome(rc));
    }
    return Effect()
        .persist(new BidPlaced(c.bid(), c.atMillis()))
        .thenReply(c.replyTo(), s -> new Outcome(ResultCode.OK));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onPlaceBids(
      State state, PlaceBids c) {
    List<Event> events = new ArrayList<>(c.bids().size());
    List<PlaceBid> accepted = new ArrayList<>(c.bids().size());
    Set<Long> ids = new HashSet<>();
    long now = System.currentTimeMillis();
    for (PlaceBid p : c.bids()) {
      if (now > p.deadlineMillis()) {
        continue; // its caller has given up and answered 503: write nothing for it
      }
      ResultCode rc = state.book.checkPlace(p.bid(), p.atMillis());
      if (rc == ResultCode.OK && !ids.add(p.bid().id())) {
        rc = ResultCode.DUPLICATE_ID;
      }
      if (rc == ResultCode.OK) {
        events.add(new BidPlaced(p.bid(), p.atMillis()));
        accepted.add(p);
      } else {
        p.replyTo().tell(new Outcome(rc));
      }
    }
    if (events.isEmpty()) {
      return Effect().reply(c.done(), new BatchWritten(c.batch(), 0));
    }
    return Effect()
        .persist(events)
        .thenRun(s -> accepted.forEach(p -> p.replyTo().tell(new Outcome(ResultCode.OK))))
        .thenReply(c.done(), s -> new BatchWritten(c.batch(), accepted.size()));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onCancelBid(
      State state, CancelBid c) {
    if (state.book.bid(c.bidId()) == null) {
      return Effect().reply(c.replyTo(), new Outcome(ResultCode.UNKNOWN_BID));
    }
    return Effect()
        .persist(new BidCancelled(c.bidId()))
        .thenReply(c.replyTo(), s -> new Outcome(ResultCode.OK));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onOfferWindow(
      State state, OfferWindow c) {
    ResultCode rc = state.book.checkOffer(c.window(), c.atMillis());
    if (rc != ResultCode.OK) {
      return Effect().reply(c.replyTo(), new Outcome(rc));
    }
    return Effect()
        .persist(new WindowOffered(c.window(), c.atMillis()))
        .thenReply(c.replyTo(), s -> new Outcome(ResultCode.OK));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onFeedOffer(
      State state, FeedOffer c) {
    if (state.seen(c.window().provider(), c.seq())) {
      return Effect().reply(c.replyTo(), FeedOutcome.DUPLICATE);
    }
    ResultCode rc = state.book.checkOffer(c.window(), c.atMillis());
    if (rc != ResultCode.OK) {
      return Effect().reply(c.replyTo(), FeedOutcome.refused(rc));
    }
    return Effect()
        .persist(new FeedWindowOffered(c.window(), c.seq(), c.atMillis()))
        .thenReply(c.replyTo(), s -> FeedOutcome.APPLIED);
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onExtend(
      State state, ExtendWindow c) {
    if (state.seen(c.provider(), c.seq())) {
      return Effect().reply(c.replyTo(), FeedOutcome.DUPLICATE);
    }
    WindowSpec w = state.book.window(c.windowId());
    ResultCode rc =
        w == null || w.provider() != c.provider()
            ? ResultCode.UNKNOWN_WINDOW
            : state.book.checkExtend(c.windowId(), c.newEndSlot(), c.atMillis());
    if (rc != ResultCode.OK) {
      return Effect().reply(c.replyTo(), FeedOutcome.refused(rc));
    }
    return Effect()
        .persist(
            new WindowExtended(c.provider(), c.windowId(), c.newEndSlot(), c.seq(), c.atMillis()))
        .thenReply(c.replyTo(), s -> FeedOutcome.APPLIED);
  }

  /**
   * Revokes in the command handler (the engine checks before it changes anything), so the event can
   * carry the cuts; the event's number tells replay to run the same revocation, and the live
   * handler that it already ran.
   */
  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onRevoke(
      State state, RevokeWindow c) {
    if (state.seen(c.provider(), c.seq())) {
      return Effect().reply(c.replyTo(), FeedOutcome.DUPLICATE);
    }
    WindowSpec w = state.book.window(c.windowId());
    if (w == null || w.provider() != c.provider()) {
      return Effect().reply(c.replyTo(), FeedOutcome.refused(ResultCode.UNKNOWN_WINDOW));
    }
    // nodes are taken from what the window offers when the revocation starts (or when the window
    // starts, if that is later)
    long from = Math.max(c.fromMillis(), c.atMillis());
    if (!clock.covers(from)) {
      return Effect().reply(c.replyTo(), FeedOutcome.refused(ResultCode.INVALID_REVOCATION));
    }
    int slot = Math.max(clock.slotAtOrBefore(from), w.startSlot());
    int offered = state.book.offeredNodes(c.windowId(), slot);
    int keep = c.takeNodes() <= 0 ? 0 : offered - c.takeNodes();
    if (keep < 0) {
      return Effect().reply(c.replyTo(), FeedOutcome.refused(ResultCode.INVALID_REVOCATION));
    }
    RevocationPlan plan =
        state.book.revoke(c.windowId(), keep, c.fromMillis(), c.kind(), c.atMillis());
    if (plan.code() != ResultCode.OK) {
      return Effect().reply(c.replyTo(), FeedOutcome.refused(plan.code()));
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
    return Effect()
        .persist(e)
        .thenRun(s -> publishRevocation(e))
        .thenReply(c.replyTo(), s -> new FeedOutcome(ResultCode.OK, false, plan.cuts()));
  }

  /**
   * Clears in the command handler, so the event can carry the outcome, and persists it. The event
   * handler then finds the book already at that epoch and leaves it; on replay it runs the same
   * clearing. If the write fails, Pekko stops the entity and the next start recovers from the
   * journal, which never saw this epoch.
   */
  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onClearEpoch(
      State state, ClearEpoch c) {
    EpochResult r = clear(state, c.atMillis());
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
    publishView(state, true);
    publish(e);
  }

  /** Clears an epoch of the live book (not on replay), measured. */
  private EpochResult clear(State state, long atMillis) {
    long started = System.nanoTime();
    EpochResult r = state.book.clear(atMillis);
    state.lastEpoch = r;
    if (meters != null) {
      meters.epoch(r, System.nanoTime() - started);
    }
    return r;
  }

  private org.apache.pekko.persistence.typed.javadsl.Effect<Event, State> onTick(
      State state, Tick t) {
    if (state.book.openBids() == 0) {
      return Effect().none();
    }
    long at = wallClock.getAsLong();
    EpochResult r = clear(state, at);
    EpochCleared e = EpochCleared.of(at, r);
    return Effect().persist(e).thenRun(s -> published(s, e));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    EventHandler<State, Event> apply = applyEvents();
    return (state, event) -> {
      State next = apply.apply(state, event);
      next.changes++;
      return next;
    };
  }

  private EventHandler<State, Event> applyEvents() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(
            BidPlaced.class,
            (state, e) -> {
              state.book.place(e.bid(), e.atMillis());
              return state;
            })
        .onEvent(
            BidCancelled.class,
            (state, e) -> {
              state.book.cancel(e.bidId());
              return state;
            })
        .onEvent(
            FeedWindowOffered.class,
            (state, e) -> {
              state.book.offer(e.window(), e.atMillis());
              state.advance(e.window().provider(), e.seq());
              return state;
            })
        .onEvent(
            WindowExtended.class,
            (state, e) -> {
              state.book.extend(e.windowId(), e.newEndSlot(), e.atMillis());
              state.advance(e.provider(), e.seq());
              return state;
            })
        .onEvent(
            WindowRevoked.class,
            (state, e) -> {
              if (state.revocations < e.number()) {
                state.book.revoke(
                    e.windowId(), e.keepNodes(), e.fromMillis(), e.kind(), e.atMillis());
                state.revocations = e.number();
              }
              state.advance(e.provider(), e.seq());
              return state;
            })
        .onEvent(
            WindowOffered.class,
            (state, e) -> {
              state.book.offer(e.window(), e.atMillis());
              return state;
            })
        .onEvent(
            EpochCleared.class,
            (state, e) -> {
              if (state.book.epoch() < e.epoch()) {
                state.lastEpoch = state.book.clear(e.atMillis());
              }
              return state;
            })
        .build();
  }
}
