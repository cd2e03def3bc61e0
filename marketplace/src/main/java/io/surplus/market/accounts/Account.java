package io.surplus.market.accounts;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.surplus.engine.BidSpec;
import io.surplus.engine.Price;
import io.surplus.market.CborSerializable;
import io.surplus.market.http.Principal;
import io.surplus.market.http.Role;
import io.surplus.market.ids.Ids;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One account as an event-sourced entity: its role, its API keys (SHA-256 hashes only), its credit
 * limit, and the money it has committed. A bid's worst-case cost is reserved here, in one place per
 * account, before the bid reaches any market, so concurrent bids across markets can never commit
 * more than the limit: {@code reserved + leased + charged <= creditLimit}. Fills arrive from the
 * epoch projection once per market epoch (at-least-once delivery, applied exactly once by epoch
 * number); a fill turns the bid's reservation into a lease, and leases are charged per minute held.
 */
public final class Account
    extends EventSourcedBehaviorWithEnforcedReplies<Account.Command, Account.Event, Account.State> {

  /** Where a bid stands, as this account knows it. */
  public enum BidStatus {
    /** Reserved here, not yet confirmed in its market. */
    PENDING,
    OPEN,
    FILLED,
    CANCELLED,
    EXPIRED,
    /** An IOC bid that did not fill in its epoch. */
    UNFILLED,
    /** Its market refused it after the reservation; the reservation was released. */
    REJECTED;

    public boolean closed() {
      return this != PENDING && this != OPEN;
    }
  }

  /** A bid's record in its account. */
  public record BidEntry(
      long bidId,
      String market,
      BidSpec spec,
      long reserved,
      String idempotencyKey,
      String requestHash,
      long atMillis,
      BidStatus status)
      implements CborSerializable {

    BidEntry withStatus(BidStatus s) {
      return new BidEntry(bidId, market, spec, reserved, idempotencyKey, requestHash, atMillis, s);
    }
  }

  /** A lease held by this account, with what it costs in all and what has been charged so far. */
  public record LeaseEntry(
      String leaseKey,
      long bidId,
      long price,
      int nodes,
      int gpusPerNode,
      long startMillis,
      long endMillis,
      long cost,
      long charged)
      implements CborSerializable {

    /** Charge due for the whole minutes held by {@code asOfMillis}, in micro-dollars. */
    long dueBy(long asOfMillis) {
      long held = Math.min(asOfMillis, endMillis) - startMillis;
      if (held <= 0) {
        return 0;
      }
      long minutes = held / 60_000L;
      return Math.min(cost, Price.cost(price, nodes, gpusPerNode, minutes * 60L));
    }

    boolean settled() {
      return charged >= cost;
    }

    /** The lease cut short: held until {@code end}, costing {@code newCost} in all. */
    LeaseEntry cutTo(long end, long newCost) {
      return new LeaseEntry(
          leaseKey, bidId, price, nodes, gpusPerNode, startMillis, end, newCost, charged);
    }

    /** The lease with {@code amount} more charged. */
    LeaseEntry plusCharged(long amount) {
      return new LeaseEntry(
          leaseKey,
          bidId,
          price,
          nodes,
          gpusPerNode,
          startMillis,
          endMillis,
          cost,
          charged + amount);
    }
  }

  /**
   * An account's state in four parts, each changed by its own events: who it is ({@link
   * AccountIdentity}), its money and commitments ({@link Ledger}), its provider side ({@link
   * ProviderFeed}) and where its notices go ({@link Webhook}); and the one sequence its bid and
   * window ids come from. Mutated in place by the event handler only.
   */
  public static final class State {
    AccountIdentity identity = new AccountIdentity();

    /** The next id of this account's bids and windows (one sequence for both). */
    long nextSeq = 1;

    Ledger ledger = new Ledger();
    ProviderFeed feed = new ProviderFeed();

    /** Where preemption notices go, and the secret that signs them; null when none. */
    Webhook webhook;

    /** Each event to the part it changes; a bid's or a window's id takes the next number. */
    void apply(Event event) {
      if (event instanceof BidReserved || event instanceof WindowIdReserved) {
        nextSeq++;
      }
      if (event instanceof IdentityEvent e) {
        identity.apply(e);
      } else if (event instanceof LedgerEvent e) {
        ledger.apply(e);
      } else if (event instanceof FeedEvent e) {
        feed.apply(e);
      } else if (event instanceof WebhookSet e) {
        webhook = e.url() == null ? null : new Webhook(e.url(), e.secret());
      }
    }

    long available() {
      return identity.creditLimit - ledger.committed();
    }

    Balance balance() {
      return new Balance(
          identity.id,
          identity.role,
          identity.name,
          identity.creditLimit,
          ledger.reserved,
          ledger.leased,
          ledger.charged,
          available(),
          ledger.chargedThroughMillis);
    }
  }

  public sealed interface Command extends CborSerializable {}

  /**
   * Stop, for a shard's hand-off: handled after the write in flight and what waits for the next
   * group write (see {@code Market.Stop}), so no write of this incarnation lands after the next
   * incarnation's, on whichever node its shard goes.
   */
  public record Stop() implements Command {}

  /**
   * Creates the account. {@code deadlineMillis}: a command that reaches the entity later (stashed
   * while Cassandra was down, say) is refused unwritten, since its caller has already been told
   * 503.
   */
  public record CreateAccount(
      Role role,
      String name,
      long creditLimit,
      String keyHash,
      long deadlineMillis,
      ActorRef<Created> replyTo)
      implements Command {}

  public record Authenticate(String keyHash, ActorRef<Principal> replyTo) implements Command {}

  /**
   * Reserves {@code reserve} micro-dollars for a new bid in {@code market}, unless {@code
   * idempotencyKey} names an earlier request: then the earlier bid is the answer, or a conflict if
   * the request differs.
   */
  public record ReserveBid(
      String idempotencyKey,
      String requestHash,
      String market,
      BidSpec spec,
      long reserve,
      long atMillis,
      long deadlineMillis,
      ActorRef<Reservation> replyTo)
      implements Command {}

  /**
   * One bid of a {@link ReserveBids}: what a {@link ReserveBid} carries, without a reply of its
   * own.
   */
  public record BidToReserve(
      String idempotencyKey,
      String requestHash,
      String market,
      BidSpec spec,
      long reserve,
      long atMillis)
      implements CborSerializable {}

  /**
   * Reserves the bids of one batch request in one journal write: one reservation per bid, in order,
   * each decided as {@link ReserveBid} would decide it against the credit the earlier ones left.
   */
  public record ReserveBids(
      List<BidToReserve> bids, long deadlineMillis, ActorRef<Reservations> replyTo)
      implements Command {}

  /**
   * Gives a provider's new window its id ({@code account << 32 | sequence}), or the id an earlier
   * request with the same idempotency key got.
   */
  public record ReserveWindow(
      String idempotencyKey,
      String requestHash,
      String market,
      long deadlineMillis,
      ActorRef<Reservation> replyTo)
      implements Command {}

  /** One window of a {@link ReserveWindows}: what a {@link ReserveWindow} carries. */
  public record WindowToReserve(String idempotencyKey, String requestHash, String market)
      implements CborSerializable {}

  /**
   * Gives the new windows of one feed request their ids in one journal write: one reservation per
   * window, in order, each answered as {@link ReserveWindow} would answer it (a key repeated within
   * the request answers the same window, or {@link KeyReused} for other fields).
   */
  public record ReserveWindows(
      List<WindowToReserve> windows, long deadlineMillis, ActorRef<Reservations> replyTo)
      implements Command {}

  /** The window a provider's key names, or null. */
  public record FindWindow(String idempotencyKey, ActorRef<WindowRef> replyTo) implements Command {}

  public record WindowRef(WindowIdReserved window) implements CborSerializable {}

  /** The windows the keys name, in order (null for a key that names none). */
  public record FindWindows(List<String> idempotencyKeys, ActorRef<WindowRefs> replyTo)
      implements Command {}

  public record WindowRefs(List<WindowIdReserved> windows) implements CborSerializable {}

  /** Records the provider's feed position: every sequence up to {@code seq} is applied. */
  public record AdvanceFeed(long seq, ActorRef<Done> replyTo) implements Command {}

  public record GetFeedPosition(ActorRef<FeedPosition> replyTo) implements Command {}

  public record FeedPosition(long lastApplied) implements CborSerializable {}

  /** One market revocation's cuts of this account's leases (at least once; applied once). */
  public record RecordCuts(
      String market, long revocation, List<CutLease> cuts, ActorRef<Done> replyTo)
      implements Command {}

  /**
   * A lease cut by a revocation: it ends at {@code preemptAtMillis}, and the account is not charged
   * for {@code shortfallSeconds} of notice it was promised but not given.
   */
  public record CutLease(
      String leaseKey,
      long bidId,
      long preemptAtMillis,
      long shortfallSeconds,
      String kind,
      boolean requeued)
      implements CborSerializable {}

  /** Registers (or, with a null url, removes) the webhook that preemption notices go to. */
  public record SetWebhook(String url, String secret, ActorRef<Done> replyTo) implements Command {}

  public record GetWebhook(ActorRef<WebhookView> replyTo) implements Command {}

  public record WebhookView(Webhook webhook) implements CborSerializable {}

  public record Webhook(String url, String secret) implements CborSerializable {}

  /** The market holds the bid now. */
  public record ConfirmBid(long bidId, ActorRef<Done> replyTo) implements Command {}

  /** The market holds these bids now (a batch's): one journal write. */
  public record ConfirmBids(List<Long> bidIds, ActorRef<Done> replyTo) implements Command {}

  /** The bid left its market without a fill (cancelled, refused): its reservation is freed. */
  public record CloseBid(long bidId, BidStatus status, ActorRef<Done> replyTo) implements Command {}

  /** One market epoch's outcome for this account: its fills and its bids closed unfilled. */
  public record RecordEpoch(
      String market,
      long epoch,
      List<Fill> fills,
      List<Long> expiredBidIds,
      List<Long> unfilledBidIds,
      ActorRef<Done> replyTo)
      implements Command {}

  /** Charges every lease for the whole minutes held by {@code asOfMillis}. */
  public record Bill(long asOfMillis, ActorRef<Balance> replyTo) implements Command {}

  public record GetBalance(ActorRef<Balance> replyTo) implements Command {}

  /**
   * The reconciler's timer fired (look for bids pending past the grace period), or the account has
   * just recovered ({@code RECOVERED}: ask about every pending bid at once, to confirm the ones
   * their market holds; a bid is answered once its market holds it and its confirmation may not
   * have been written before a crash).
   */
  enum ReconcileTick implements Command {
    INSTANCE,
    RECOVERED
  }

  /**
   * A market's answer about a pending bid: in its book or not (null: no answer). {@code
   * confirmOnly}: asked before the grace period passed, so only a bid in the book is settled.
   */
  record Reconciled(long bidId, Boolean inBook, boolean confirmOnly) implements Command {}

  /** The billing timer fired: charge running leases up to now. */
  enum BillTick implements Command {
    INSTANCE
  }

  /** Writes what waited for the account's next group write (see {@link #groupWrites}). */
  enum Flush implements Command {
    INSTANCE
  }

  /**
   * How many group writes (reservations and confirmations) this incarnation made, and for how many
   * commands.
   */
  public record GetWrites(ActorRef<Writes> replyTo) implements Command {}

  public record Writes(long writes, long commands) implements CborSerializable {}

  public record GetBid(long bidId, ActorRef<BidFound> replyTo) implements Command {}

  public record ListBids(BidStatus status, long afterBidId, int limit, ActorRef<BidPage> replyTo)
      implements Command {}

  public record Fill(
      String leaseKey,
      long bidId,
      long price,
      int nodes,
      int gpusPerNode,
      long startMillis,
      long endMillis)
      implements CborSerializable {}

  /**
   * The answer to {@link CreateAccount}: {@code created} false if the id is taken (or the command
   * came too late and nothing was written).
   */
  public record Created(boolean created) implements CborSerializable {}

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Reserved.class, name = "Reserved"),
    @JsonSubTypes.Type(value = KeyReused.class, name = "KeyReused"),
    @JsonSubTypes.Type(value = InsufficientCredit.class, name = "InsufficientCredit"),
    @JsonSubTypes.Type(value = NoSuchAccount.class, name = "NoSuchAccount"),
    @JsonSubTypes.Type(value = TooLate.class, name = "TooLate"),
    @JsonSubTypes.Type(value = Settling.class, name = "Settling")
  })
  public sealed interface Reservation extends CborSerializable {}

  /** The answer to {@link ReserveBids}: one reservation per bid, in the batch's order. */
  public record Reservations(List<Reservation> items) implements CborSerializable {}

  /** A bid id: new ({@code replay} false) or the one an earlier request with this key made. */
  public record Reserved(long bidId, boolean replay, BidStatus status) implements Reservation {
    /** The id given: a bid's, or a window's for {@link ReserveWindow}. */
    public long windowOrBidId() {
      return bidId;
    }
  }

  public record KeyReused(long bidId) implements Reservation {}

  public record InsufficientCredit(long available, long needed) implements Reservation {}

  public record NoSuchAccount() implements Reservation {}

  /** The command reached the entity after its deadline; nothing was written. */
  public record TooLate() implements Reservation {}

  /**
   * The key's bid is still pending and too old to be placed again: a new attempt could reach its
   * market after the reconciler judged the bid, so it waits for that judgement (until {@code
   * untilMillis}) instead.
   */
  public record Settling(long bidId, long untilMillis) implements Reservation {}

  public record Balance(
      long account,
      Role role,
      String name,
      long creditLimit,
      long reserved,
      long leased,
      long charged,
      long available,
      long chargedThroughMillis)
      implements CborSerializable {}

  /** A bid of this account, or {@code entry} null when it is not one of its bids. */
  public record BidFound(BidEntry entry) implements CborSerializable {}

  public record BidPage(List<BidEntry> bids, long nextAfter) implements CborSerializable {}

  /** What happens to an account, in four kinds: one per part of its state. */
  public sealed interface Event extends CborSerializable
      permits IdentityEvent, LedgerEvent, FeedEvent, WebhookSet {}

  /** Changes {@link AccountIdentity}. */
  public sealed interface IdentityEvent extends Event permits AccountCreated {}

  /** Changes the {@link Ledger}. */
  public sealed interface LedgerEvent extends Event
      permits BidReserved, BidConfirmed, BidClosed, EpochRecorded, CutsRecorded, Charged {}

  /** Changes the {@link ProviderFeed}. */
  public sealed interface FeedEvent extends Event permits WindowIdReserved, FeedAdvanced {}

  public record AccountCreated(long id, Role role, String name, long creditLimit, String keyHash)
      implements IdentityEvent {}

  public record BidReserved(
      long bidId,
      String market,
      BidSpec spec,
      long reserve,
      String idempotencyKey,
      String requestHash,
      long atMillis)
      implements LedgerEvent {}

  public record BidConfirmed(long bidId) implements LedgerEvent {}

  public record FeedAdvanced(long seq) implements FeedEvent {}

  public record CutsRecorded(String market, long revocation, List<CutLease> cuts)
      implements LedgerEvent {}

  public record WebhookSet(String url, String secret) implements Event {}

  public record WindowIdReserved(
      long windowId, String market, String idempotencyKey, String requestHash)
      implements FeedEvent {}

  public record BidClosed(long bidId, BidStatus status) implements LedgerEvent {}

  public record EpochRecorded(
      String market,
      long epoch,
      List<Fill> fills,
      List<Long> expiredBidIds,
      List<Long> unfilledBidIds)
      implements LedgerEvent {}

  /** Charges up to {@code asOfMillis}: lease key to micro-dollars charged now. */
  public record Charged(long asOfMillis, Map<String, Long> charges) implements LedgerEvent {}

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "Account");

  /** Closed bids an account remembers (with their idempotency keys); older ones are forgotten. */
  public static final int CLOSED_BIDS_KEPT = 10_000;

  /** Events between snapshots; two are kept. */
  public static final int SNAPSHOT_EVERY = 500;

  /**
   * Registers accounts with Cluster Sharding. A live account charges its running leases every
   * {@code billingInterval}; one passivated for lack of traffic catches up exactly on its next
   * message, since what is due follows from the leases and the clock.
   */
  public static void init(
      ActorSystem<?> system, Duration billingInterval, Duration pendingGrace, BookLookup books) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    ENTITY_KEY,
                    ctx ->
                        create(
                            Long.parseLong(ctx.getEntityId()),
                            billingInterval,
                            pendingGrace,
                            books))
                .withStopMessage(new Stop()));
  }

  /**
   * Asks the sharded account {@code id} to be created with one key (its hash) unless it exists, by
   * {@code deadlineMillis}: {@link Created#created()} says whether this call created it.
   */
  public static java.util.concurrent.CompletionStage<Created> create(
      ActorSystem<?> system,
      long id,
      Role role,
      String name,
      long creditLimit,
      String keyHash,
      long deadlineMillis,
      Duration timeout) {
    return ClusterSharding.get(system)
        .entityRefFor(ENTITY_KEY, Long.toString(id))
        .ask(r -> new CreateAccount(role, name, creditLimit, keyHash, deadlineMillis, r), timeout);
  }

  /**
   * How the reconciler learns whether a pending bid reached its market's book. The placement gives
   * it ({@code io.surplus.market.bids.BidPlacement#inBook}, wired by the app): a bid's placement
   * and the settling of what a crash left pending are one saga, kept in one place, and the account
   * knows no market.
   */
  @FunctionalInterface
  public interface BookLookup {
    /** Whether {@code market} holds bid {@code bidId} in its book now. */
    java.util.concurrent.CompletionStage<Boolean> inBook(String market, long bidId);
  }

  /** An account without the pending-bid reconciler (it needs Cluster Sharding): for tests. */
  public static Behavior<Command> create(long id, Duration billingInterval) {
    return Behaviors.withTimers(
        timers -> {
          Account a = new Account(id, null, null, null);
          a.timers = timers;
          a.billingInterval = billingInterval;
          return a;
        });
  }

  /**
   * A sharded account: bills every {@code billingInterval}, and resolves bids still pending {@code
   * pendingGrace} after their reservation (their placement's outcome never came back) by asking
   * {@code books} whether their market holds them.
   */
  public static Behavior<Command> create(
      long id, Duration billingInterval, Duration pendingGrace, BookLookup books) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  Account a = new Account(id, ctx, pendingGrace, books);
                  a.timers = timers;
                  a.billingInterval = billingInterval;
                  return a;
                }));
  }

  private TimerScheduler<Command> timers;
  private Duration billingInterval;

  /**
   * Starts the billing and reconciling timers once the state is recovered, and again after every
   * restart: a restart (after a failed write) cancels an actor's timers.
   */
  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              if (timers != null) {
                timers.startTimerWithFixedDelay(BillTick.INSTANCE, billingInterval);
                if (ctx != null) {
                  timers.startTimerWithFixedDelay(
                      ReconcileTick.INSTANCE, pendingGrace.dividedBy(2).plusMillis(1));
                  if (!state.ledger.pending.isEmpty()) {
                    ctx.getSelf().tell(ReconcileTick.RECOVERED);
                  }
                }
              }
            })
        .build();
  }

  private final org.apache.pekko.actor.typed.javadsl.ActorContext<Command> ctx;
  private final Duration pendingGrace;
  private final BookLookup books;

  /** Bids whose market is being asked, so a slow answer is not asked for twice. */
  private final Set<Long> reconciling = new HashSet<>();

  public static PersistenceId persistenceId(long id) {
    return PersistenceId.of("Account", Long.toString(id));
  }

  private final long id;

  private Account(
      long id,
      org.apache.pekko.actor.typed.javadsl.ActorContext<Command> ctx,
      Duration pendingGrace,
      BookLookup books) {
    super(
        persistenceId(id),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2));
    if (id <= 0 || id >= (1L << 31)) {
      throw new IllegalArgumentException("account id must be in 1..2^31-1: id=" + id);
    }
    this.id = id;
    this.ctx = ctx;
    this.pendingGrace = pendingGrace;
    this.books = books;
    this.groupWrites = ctx != null;
  }

  @Override
  public State emptyState() {
    return new State();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
  }

  /**
   * A snapshot: an immutable copy of each part of the state, taken in the entity. The parts'
   * records are round-tripped one by one by {@code AccountSnapshotTest}.
   */
  public record PartsSnapshot(
      AccountIdentity.Snapshot identity,
      long nextSeq,
      Ledger.Snapshot ledger,
      ProviderFeed.Snapshot feed,
      Webhook webhook)
      implements CborSerializable {}

  /**
   * The snapshot of the state before it was split into parts, as older snapshots in the store hold
   * it: read, never written.
   */
  public record AccountSnapshot(
      boolean exists,
      long id,
      Role role,
      String name,
      long creditLimit,
      List<String> keyHashes,
      long nextSeq,
      List<BidEntry> bids,
      Map<String, Long> lastEpochByMarket,
      List<WindowIdReserved> windowKeys,
      long feedSeq,
      Map<String, Long> lastRevocationByMarket,
      Webhook webhook,
      List<LeaseEntry> leases,
      long reserved,
      long leased,
      long charged,
      long chargedThroughMillis,
      int closedBids)
      implements CborSerializable {

    PartsSnapshot parts() {
      return new PartsSnapshot(
          new AccountIdentity.Snapshot(exists, id, role, name, creditLimit, keyHashes),
          nextSeq,
          new Ledger.Snapshot(
              bids,
              lastEpochByMarket,
              lastRevocationByMarket,
              leases,
              reserved,
              leased,
              charged,
              chargedThroughMillis,
              closedBids),
          new ProviderFeed.Snapshot(windowKeys, feedSeq),
          webhook);
    }
  }

  /** The state mutates in place, so the store gets a copy made here, on the entity's thread. */
  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    return SNAPSHOTS;
  }

  /**
   * The state to its snapshot record and back ({@code AccountSnapshotTest} round-trips every field
   * through the journal's serializer); a snapshot of the old shape is read as well.
   */
  static final SnapshotAdapter<State> SNAPSHOTS =
      new SnapshotAdapter<>() {
        @Override
        public Object toJournal(State s) {
          return new PartsSnapshot(
              s.identity.snapshot(), s.nextSeq, s.ledger.snapshot(), s.feed.snapshot(), s.webhook);
        }

        @Override
        public State fromJournal(Object from) {
          PartsSnapshot p =
              from instanceof AccountSnapshot old ? old.parts() : (PartsSnapshot) from;
          State s = new State();
          s.identity = AccountIdentity.of(p.identity());
          s.nextSeq = p.nextSeq();
          s.ledger = Ledger.of(p.ledger());
          s.feed = ProviderFeed.of(p.feed());
          s.webhook = p.webhook();
          return s;
        }
      };

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Stop.class, this::onStop)
        .onCommand(CreateAccount.class, this::onCreate)
        .onCommand(
            Authenticate.class,
            (s, c) ->
                Effect()
                    .reply(
                        c.replyTo(),
                        s.identity.exists && s.identity.keyHashes.contains(c.keyHash())
                            ? new Principal(s.identity.id, s.identity.role)
                            : new Principal(id, null)))
        .onCommand(ReserveBid.class, this::onReserve)
        .onCommand(ReserveWindow.class, this::onReserveWindow)
        .onCommand(ReserveWindows.class, this::onReserveWindows)
        .onCommand(ConfirmBid.class, this::onConfirm)
        .onCommand(ReserveBids.class, this::onReserveBids)
        .onCommand(ConfirmBids.class, this::onConfirmBids)
        .onCommand(Flush.class, this::onFlush)
        .onCommand(
            GetWrites.class,
            (s, c) -> Effect().reply(c.replyTo(), new Writes(writes, commandsWritten)))
        .onCommand(
            FindWindow.class,
            (s, c) ->
                Effect()
                    .reply(c.replyTo(), new WindowRef(s.feed.windowKeys.get(c.idempotencyKey()))))
        .onCommand(
            FindWindows.class,
            (s, c) -> {
              List<WindowIdReserved> found = new ArrayList<>(c.idempotencyKeys().size());
              for (String key : c.idempotencyKeys()) {
                found.add(s.feed.windowKeys.get(key));
              }
              return Effect().reply(c.replyTo(), new WindowRefs(found));
            })
        .onCommand(
            AdvanceFeed.class,
            (s, c) ->
                c.seq() <= s.feed.feedSeq
                    ? Effect().reply(c.replyTo(), Done.getInstance())
                    : Effect()
                        .persist(new FeedAdvanced(c.seq()))
                        .thenReply(c.replyTo(), st -> Done.getInstance()))
        .onCommand(
            GetFeedPosition.class,
            (s, c) -> Effect().reply(c.replyTo(), new FeedPosition(s.feed.feedSeq)))
        .onCommand(RecordCuts.class, this::onRecordCuts)
        .onCommand(
            SetWebhook.class,
            (s, c) ->
                Effect()
                    .persist(new WebhookSet(c.url(), c.secret()))
                    .thenReply(c.replyTo(), st -> Done.getInstance()))
        .onCommand(
            GetWebhook.class, (s, c) -> Effect().reply(c.replyTo(), new WebhookView(s.webhook)))
        .onCommand(CloseBid.class, this::onClose)
        .onCommand(RecordEpoch.class, this::onRecordEpoch)
        .onCommand(Bill.class, this::onBill)
        .onCommand(BillTick.class, this::onBillTick)
        .onCommand(ReconcileTick.class, this::onReconcileTick)
        .onCommand(Reconciled.class, this::onReconciled)
        .onCommand(GetBalance.class, (s, c) -> Effect().reply(c.replyTo(), s.balance()))
        .onCommand(
            GetBid.class,
            (s, c) -> read(s, c.replyTo(), st -> new BidFound(st.ledger.bids.get(c.bidId()))))
        .onCommand(ListBids.class, (s, c) -> read(s, c.replyTo(), st -> page(st, c)))
        .build();
  }

  private ReplyEffect<Event, State> onCreate(State s, CreateAccount c) {
    if (s.identity.exists || System.currentTimeMillis() > c.deadlineMillis()) {
      return Effect().reply(c.replyTo(), new Created(false));
    }
    return Effect()
        .persist(new AccountCreated(id, c.role(), c.name(), c.creditLimit(), c.keyHash()))
        .thenReply(c.replyTo(), st -> new Created(true));
  }

  /** Why a reservation cannot be considered at all, or null. */
  private static Reservation cannotReserve(State s, long deadlineMillis) {
    if (!s.identity.exists) {
      return new NoSuchAccount();
    }
    if (System.currentTimeMillis() > deadlineMillis) {
      return new TooLate();
    }
    return null;
  }

  private ReplyEffect<Event, State> onReserve(State s, ReserveBid c) {
    waitingReservations.add(
        new WaitingReservations(
            List.of(
                new BidToReserve(
                    c.idempotencyKey(),
                    c.requestHash(),
                    c.market(),
                    c.spec(),
                    c.reserve(),
                    c.atMillis())),
            c.deadlineMillis(),
            items -> c.replyTo().tell(items.get(0))));
    return writeSoon(s);
  }

  /**
   * The answer to a repeated key: its bid. A pending one may be placed again only while the new
   * attempt's deadline falls before the reconciler may judge it ({@code pendingGrace} after its
   * reservation): the market drops a placement past its deadline, so the reconciler's answer stays
   * final.
   */
  private Reservation replay(BidEntry e, long deadlineMillis) {
    if (e.status() == BidStatus.PENDING
        && pendingGrace != null
        && deadlineMillis >= e.atMillis() + pendingGrace.toMillis()) {
      return new Settling(e.bidId(), e.atMillis() + pendingGrace.toMillis());
    }
    return new Reserved(e.bidId(), true, e.status());
  }

  private ReplyEffect<Event, State> onReserveBids(State s, ReserveBids c) {
    waitingReservations.add(
        new WaitingReservations(
            c.bids(), c.deadlineMillis(), items -> c.replyTo().tell(new Reservations(items))));
    return writeSoon(s);
  }

  /**
   * Reservations decided in order for one journal write: each against the credit the earlier ones
   * left, and a key repeated within the write answered as a key of an earlier write would be.
   */
  private final class Decision {
    private final State s;
    private long available;
    private long seq;
    private final Map<String, BidReserved> keys = new HashMap<>();

    /** Decides against {@code s} with {@code freed} more credit (closes earlier in the write). */
    Decision(State s, long freed) {
      this.s = s;
      this.available = s.available() + freed;
      this.seq = s.nextSeq;
    }

    /** Each bid's answer, in order; the reservations made are added to {@code events}. */
    List<Reservation> decide(List<BidToReserve> bids, long deadlineMillis, List<Event> events) {
      List<Reservation> items = new ArrayList<>(bids.size());
      for (BidToReserve b : bids) {
        Long earlier = s.ledger.byIdempotencyKey.get(b.idempotencyKey());
        BidReserved inThisWrite = keys.get(b.idempotencyKey());
        if (earlier != null) {
          BidEntry e = s.ledger.bids.get(earlier);
          items.add(
              e.requestHash().equals(b.requestHash())
                  ? replay(e, deadlineMillis)
                  : new KeyReused(earlier));
        } else if (inThisWrite != null) {
          items.add(
              inThisWrite.requestHash().equals(b.requestHash())
                  ? new Reserved(inThisWrite.bidId(), true, BidStatus.PENDING)
                  : new KeyReused(inThisWrite.bidId()));
        } else if (b.reserve() > available) {
          items.add(new InsufficientCredit(available, b.reserve()));
        } else {
          long bidId = Ids.of(id, seq++);
          available -= b.reserve();
          BidReserved reserved =
              new BidReserved(
                  bidId,
                  b.market(),
                  b.spec().withId(bidId),
                  b.reserve(),
                  b.idempotencyKey(),
                  b.requestHash(),
                  b.atMillis());
          keys.put(b.idempotencyKey(), reserved);
          events.add(reserved);
          items.add(new Reserved(bidId, false, BidStatus.PENDING));
        }
      }
      return items;
    }
  }

  // ---------------------------------------------------------------- group commit

  /**
   * Reservations, confirmations and closes ride in the account's next journal write together (group
   * commit, as {@code MarketGate} does for a market): a command that writes only waits here, and a
   * {@link Flush} sent to self writes all that waited in one {@code persist}. While a write is in
   * flight Pekko stashes new commands; when it is durable they are taken in order, so everything
   * that arrived during one write goes in the next. Under light load a command waits one mailbox
   * hop; under heavy load a write carries many commands. Off for the entity-logic tests (no actor
   * context): there each command is written the same way, at once and alone.
   */
  private final boolean groupWrites;

  /** Events per group write at most (a batch request is never split); see {@code MarketGate}. */
  static final int MAX_GROUP = 256;

  /** Reservations to decide at the next write, and how to answer them. */
  private record WaitingReservations(
      List<BidToReserve> bids,
      long deadlineMillis,
      java.util.function.Consumer<List<Reservation>> answer) {}

  private final List<WaitingReservations> waitingReservations = new ArrayList<>();
  private final List<ConfirmBids> waitingConfirms = new ArrayList<>();
  private final List<CloseBid> waitingCloses = new ArrayList<>();
  private boolean flushSent;
  private long writes;
  private long commandsWritten;

  /** Confirmations taken into a group so far, and written so far (counts of requests). */
  private long confirmsQueued;

  private long confirmsWritten;

  /** A read that waits for the confirmations queued before it. */
  private record WaitingRead(long after, java.util.function.Consumer<State> answer) {}

  private final List<WaitingRead> waitingReads = new ArrayList<>();

  /**
   * Answers a read of bids from the state, once every confirmation queued before it is written: a
   * bidder who has had the 201 of a bid (its confirmation was sent before the answer) reads it
   * open.
   */
  private <R> ReplyEffect<Event, State> read(
      State s, ActorRef<R> replyTo, java.util.function.Function<State, R> answer) {
    if (confirmsWritten == confirmsQueued) {
      return Effect().reply(replyTo, answer.apply(s));
    }
    waitingReads.add(new WaitingRead(confirmsQueued, st -> replyTo.tell(answer.apply(st))));
    return Effect().noReply();
  }

  /** Answers the reads whose confirmations are all written, from {@code s}. */
  private void answerReads(State s) {
    while (!waitingReads.isEmpty() && waitingReads.get(0).after() <= confirmsWritten) {
      waitingReads.remove(0).answer().accept(s);
    }
  }

  /**
   * Stops after the write in flight (Pekko stashes the {@link Stop} behind it) and after what waits
   * for the next group write: while a {@link Flush} is on its way the stop goes behind it again.
   */
  private ReplyEffect<Event, State> onStop(State s, Stop stop) {
    if (flushSent) {
      ctx.getSelf().tell(stop);
      return Effect().noReply();
    }
    return Effect().stop().thenNoReply();
  }

  /** Writes what waits with the next group write (at once, alone, when not grouping). */
  private ReplyEffect<Event, State> writeSoon(State s) {
    if (!groupWrites) {
      return onFlush(s, Flush.INSTANCE);
    }
    if (!flushSent) {
      flushSent = true;
      ctx.getSelf().tell(Flush.INSTANCE);
    }
    return Effect().noReply();
  }

  /**
   * Writes what waited, in one {@code persist}: confirmations first (of bids still pending), then
   * closes (of bids still open or pending), then each request's reservations decided in arrival
   * order (so credit a close frees is there for them); every caller gets its own answer once the
   * write is durable (a request refused outright, at once), then the reads that waited for it.
   */
  private ReplyEffect<Event, State> onFlush(State s, Flush f) {
    flushSent = false;
    List<Event> events = new ArrayList<>();
    List<ConfirmBids> confirms = new ArrayList<>();
    Set<Long> confirming = new HashSet<>();
    int taken = 0;
    while (!waitingConfirms.isEmpty()
        && (taken == 0 || taken + waitingConfirms.get(0).bidIds().size() <= MAX_GROUP)) {
      ConfirmBids c = waitingConfirms.remove(0);
      confirms.add(c);
      taken += c.bidIds().size();
      for (long bidId : c.bidIds()) {
        BidEntry e = s.ledger.bids.get(bidId);
        if (e != null && e.status() == BidStatus.PENDING && confirming.add(bidId)) {
          events.add(new BidConfirmed(bidId));
        }
      }
    }
    List<CloseBid> closes = new ArrayList<>();
    long freed = 0;
    Set<Long> closing = new HashSet<>();
    while (!waitingCloses.isEmpty() && (taken == 0 || taken < MAX_GROUP)) {
      CloseBid c = waitingCloses.remove(0);
      closes.add(c);
      taken++;
      BidEntry e = s.ledger.bids.get(c.bidId());
      if (e != null && !e.status().closed() && closing.add(c.bidId())) {
        events.add(new BidClosed(c.bidId(), c.status()));
        freed += e.reserved();
      }
    }
    Decision decision = new Decision(s, freed);
    List<Runnable> answers = new ArrayList<>();
    int requests = confirms.size() + closes.size();
    while (!waitingReservations.isEmpty()
        && (taken == 0 || taken + waitingReservations.get(0).bids().size() <= MAX_GROUP)) {
      WaitingReservations w = waitingReservations.remove(0);
      requests++;
      taken += w.bids().size();
      Reservation refused = cannotReserve(s, w.deadlineMillis());
      List<Reservation> items =
          refused != null
              ? java.util.Collections.nCopies(w.bids().size(), refused)
              : decision.decide(w.bids(), w.deadlineMillis(), events);
      answers.add(() -> w.answer().accept(items));
    }
    if (!waitingConfirms.isEmpty() || !waitingCloses.isEmpty() || !waitingReservations.isEmpty()) {
      flushSent = true; // the rest go in the write after this one
      ctx.getSelf().tell(Flush.INSTANCE);
    }
    long written = confirmsWritten + confirms.size();
    java.util.function.Consumer<State> answerAll =
        st -> {
          answers.forEach(Runnable::run);
          confirms.forEach(c -> c.replyTo().tell(Done.getInstance()));
          closes.forEach(c -> c.replyTo().tell(Done.getInstance()));
          confirmsWritten = written;
          answerReads(st);
        };
    if (events.isEmpty()) {
      answerAll.accept(s);
      return Effect().noReply();
    }
    writes++;
    commandsWritten += requests;
    return Effect().persist(events).thenRun(answerAll::accept).thenNoReply();
  }

  private ReplyEffect<Event, State> onConfirmBids(State s, ConfirmBids c) {
    waitingConfirms.add(c);
    confirmsQueued++;
    return writeSoon(s);
  }

  private ReplyEffect<Event, State> onReserveWindow(State s, ReserveWindow c) {
    Reservation refused = cannotReserve(s, c.deadlineMillis());
    if (refused != null) {
      return Effect().reply(c.replyTo(), refused);
    }
    List<WindowIdReserved> events = new ArrayList<>(1);
    Reservation r =
        reserveWindow(
            s, new WindowToReserve(c.idempotencyKey(), c.requestHash(), c.market()), events);
    return events.isEmpty()
        ? Effect().reply(c.replyTo(), r)
        : Effect().persist(List.<Event>copyOf(events)).thenReply(c.replyTo(), st -> r);
  }

  private ReplyEffect<Event, State> onReserveWindows(State s, ReserveWindows c) {
    Reservation refused = cannotReserve(s, c.deadlineMillis());
    List<Reservation> items = new ArrayList<>(c.windows().size());
    List<WindowIdReserved> events = new ArrayList<>();
    for (WindowToReserve w : c.windows()) {
      items.add(refused != null ? refused : reserveWindow(s, w, events));
    }
    Reservations answer = new Reservations(items);
    return events.isEmpty()
        ? Effect().reply(c.replyTo(), answer)
        : Effect().persist(List.<Event>copyOf(events)).thenReply(c.replyTo(), st -> answer);
  }

  /**
   * A window's id: the one its key got before (in the journal or earlier in {@code events}), or a
   * new one whose event joins {@code events}.
   */
  private Reservation reserveWindow(State s, WindowToReserve w, List<WindowIdReserved> events) {
    WindowIdReserved earlier = s.feed.windowKeys.get(w.idempotencyKey());
    for (int i = 0; earlier == null && i < events.size(); i++) {
      if (events.get(i).idempotencyKey().equals(w.idempotencyKey())) {
        earlier = events.get(i);
      }
    }
    if (earlier != null) {
      return earlier.requestHash().equals(w.requestHash())
          ? new Reserved(earlier.windowId(), true, BidStatus.PENDING)
          : new KeyReused(earlier.windowId());
    }
    long windowId = Ids.of(id, s.nextSeq + events.size());
    events.add(new WindowIdReserved(windowId, w.market(), w.idempotencyKey(), w.requestHash()));
    return new Reserved(windowId, false, BidStatus.PENDING);
  }

  private ReplyEffect<Event, State> onRecordCuts(State s, RecordCuts c) {
    Long last = s.ledger.lastRevocationByMarket.get(c.market());
    if (!s.identity.exists || (last != null && c.revocation() <= last)) {
      return Effect().reply(c.replyTo(), Done.getInstance());
    }
    return Effect()
        .persist(new CutsRecorded(c.market(), c.revocation(), c.cuts()))
        .thenReply(c.replyTo(), st -> Done.getInstance());
  }

  private ReplyEffect<Event, State> onConfirm(State s, ConfirmBid c) {
    return onConfirmBids(s, new ConfirmBids(List.of(c.bidId()), c.replyTo()));
  }

  private ReplyEffect<Event, State> onClose(State s, CloseBid c) {
    waitingCloses.add(c);
    return writeSoon(s);
  }

  private ReplyEffect<Event, State> onRecordEpoch(State s, RecordEpoch c) {
    Long last = s.ledger.lastEpochByMarket.get(c.market());
    if (!s.identity.exists || (last != null && c.epoch() <= last)) {
      return Effect().reply(c.replyTo(), Done.getInstance());
    }
    return Effect()
        .persist(
            new EpochRecorded(
                c.market(), c.epoch(), c.fills(), c.expiredBidIds(), c.unfilledBidIds()))
        .thenReply(c.replyTo(), st -> Done.getInstance());
  }

  private ReplyEffect<Event, State> onBill(State s, Bill c) {
    Map<String, Long> charges = due(s, c.asOfMillis());
    if (charges.isEmpty() || c.asOfMillis() <= s.ledger.chargedThroughMillis) {
      return Effect().reply(c.replyTo(), s.balance());
    }
    return Effect()
        .persist(new Charged(c.asOfMillis(), charges))
        .thenReply(c.replyTo(), State::balance);
  }

  /**
   * Asks the market of every bid still pending past the grace period whether its book holds it. By
   * then every deadline of its placement has passed, so the market can no longer take it: the
   * answer is final.
   */
  private ReplyEffect<Event, State> onReconcileTick(State s, ReconcileTick t) {
    if (ctx == null) {
      return Effect().noReply();
    }
    boolean confirmOnly = t == ReconcileTick.RECOVERED;
    long cutoff =
        confirmOnly ? Long.MAX_VALUE : System.currentTimeMillis() - pendingGrace.toMillis();
    for (long bidId : s.ledger.pending) {
      BidEntry b = s.ledger.bids.get(bidId);
      if (b.atMillis() < cutoff && reconciling.add(bidId)) {
        ctx.pipeToSelf(
            books.inBook(b.market(), bidId),
            (inBook, failure) ->
                new Reconciled(bidId, failure == null ? inBook : null, confirmOnly));
      }
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> onReconciled(State s, Reconciled r) {
    reconciling.remove(r.bidId());
    BidEntry b = s.ledger.bids.get(r.bidId());
    if (r.inBook() == null || b == null || b.status() != BidStatus.PENDING) {
      return Effect().noReply();
    }
    if (r.confirmOnly()) {
      // before the grace period a bid not in the book may still be on its way there
      return r.inBook()
          ? Effect().persist(new BidConfirmed(r.bidId())).thenNoReply()
          : Effect().noReply();
    }
    ctx.getLog()
        .warn(
            "bid {} was pending past the grace period; its market {} it",
            r.bidId(),
            r.inBook() ? "holds" : "does not hold");
    if (r.inBook()) {
      return Effect().persist(new BidConfirmed(r.bidId())).thenNoReply();
    }
    // not in the book: never placed, or placed and already filled or expired. A fill's epoch
    // still reaches this account and records its lease; only the reservation is freed here.
    return Effect().persist(new BidClosed(r.bidId(), BidStatus.REJECTED)).thenNoReply();
  }

  private ReplyEffect<Event, State> onBillTick(State s, BillTick t) {
    long now = System.currentTimeMillis();
    Map<String, Long> charges = due(s, now);
    if (charges.isEmpty() || now <= s.ledger.chargedThroughMillis) {
      return Effect().noReply();
    }
    return Effect().persist(new Charged(now, charges)).thenNoReply();
  }

  private static Map<String, Long> due(State s, long asOfMillis) {
    Map<String, Long> charges = new LinkedHashMap<>();
    for (LeaseEntry l : s.ledger.leases.values()) {
      long due = l.dueBy(asOfMillis) - l.charged();
      if (due > 0) {
        charges.put(l.leaseKey(), due);
      }
    }
    return charges;
  }

  private static BidPage page(State s, ListBids c) {
    List<BidEntry> page = new ArrayList<>();
    long next = 0;
    // newest first: walk the insertion order backwards
    List<BidEntry> all = new ArrayList<>(s.ledger.bids.values());
    for (int i = all.size() - 1; i >= 0; i--) {
      BidEntry e = all.get(i);
      if (c.afterBidId() > 0 && e.bidId() >= c.afterBidId()) {
        continue;
      }
      if (c.status() != null && e.status() != c.status()) {
        continue;
      }
      if (page.size() == c.limit()) {
        next = page.get(page.size() - 1).bidId();
        break;
      }
      page.add(e);
    }
    return new BidPage(page, next);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(
            Event.class,
            (s, e) -> {
              s.apply(e);
              return s;
            })
        .build();
  }
}
