package io.surplus.market.markets;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.surplus.engine.GpuModel;
import io.surplus.engine.PricingRule;
import io.surplus.engine.SlotClock;
import io.surplus.market.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Group commit in front of one {@link Market}: while one batch of bids is being written, new bids
 * and cancels wait here; when it is written, all that waited (up to {@link #MAX_BATCH}) go as the
 * next batch, one journal write. Under light load a bid goes alone at once; under heavy load the
 * batches grow, so durable throughput is not capped at one Cassandra round trip per bid.
 */
public final class MarketGate extends AbstractBehavior<MarketGate.Message> {

  /**
   * Bids per journal write: Pekko Persistence's {@code max-message-batch-size}, and well under
   * Cassandra's batch size limit for events of a few hundred bytes.
   */
  public static final int MAX_BATCH = 100;

  public sealed interface Message extends CborSerializable {}

  /** A bid to place; its outcome goes to the bid's own {@code replyTo}. */
  public record Place(Market.PlaceBid bid) implements Message {}

  /**
   * The bids of one request bound for this market, as one message: they join the waiting bids
   * together (in order, so they go in as few writes as fit) and their results come back together,
   * in the same order, once every one of them is written or refused. Their own {@code replyTo} is
   * not used.
   */
  public record PlaceAll(List<Market.PlaceBid> bids, ActorRef<Outcomes> replyTo)
      implements Message {}

  /** The results of a {@link PlaceAll}, in its order; null for a bid dropped past its deadline. */
  public record Outcomes(List<io.surplus.engine.ResultCode> results) implements CborSerializable {}

  /** Any other market command, passed through in order. */
  public record Forward(Market.Command command) implements Message {}

  /** How many journal writes the gate has made, and for how many commands (bids and cancels). */
  public record GetStats(ActorRef<Stats> replyTo) implements Message {}

  public record Stats(long batches, long bids) implements CborSerializable {}

  private record Written(Market.BatchWritten result) implements Message {}

  /**
   * The market has recovered its book from the journal: at its first start, and after each restart
   * that a failure caused.
   */
  public record MarketRecovered(long epoch) implements Message {}

  /** The market failed and is restarting from its journal (after a back-off). */
  public enum MarketFailed implements Message {
    INSTANCE
  }

  /** Asks how the market is: see {@link Health}. */
  public record GetHealth(ActorRef<Health> replyTo) implements Message {}

  /**
   * Stop, for a shard's hand-off: the gate asks its market to stop after the writes in flight
   * ({@link Market.Stop}) and stops once it has.
   */
  public record Stop() implements Message {}

  /**
   * A market's health: {@code starting} until its first recovery, {@code up} while it serves,
   * {@code restarting} from a failure until it has recovered again; how often it has restarted, and
   * since when (epoch millis) it has been in its status; the cluster node it runs on ({@code
   * host:port} of the node's cluster address).
   */
  public record Health(String status, int restarts, long sinceMillis, String node)
      implements CborSerializable {
    public boolean up() {
      return status.equals(UP);
    }
  }

  static final String STARTING = "starting";
  public static final String UP = "up";
  static final String RESTARTING = "restarting";

  /** How a failed market restarts: after 200 ms, doubling up to 5 s while it keeps failing. */
  static final SupervisorStrategy RESTART =
      SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.2);

  /** A batch got no answer in time (its write failed and the market restarted): move on. */
  private record BatchTimedOut(long batch) implements Message {}

  /**
   * How long the gate waits for a batch's write before it gives up on it. The bids of such a batch
   * get no outcome from the gate; their callers time out and answer 503, and a retry with the same
   * idempotency key finds out whether the write happened.
   */
  public static final Duration BATCH_TIMEOUT = Duration.ofSeconds(12);

  /** Sharded entities of this type: one gate, with its market as a child, per GPU model. */
  public static final EntityTypeKey<Message> ENTITY_KEY =
      EntityTypeKey.create(Message.class, "Market");

  /**
   * Registers the market entities with Cluster Sharding on this node; markets then live on
   * whichever node sharding puts them, found by GPU model name.
   */
  public static void init(
      ActorSystem<?> system, SlotClock clock, PricingRule pricing, Duration epochInterval) {
    init(
        system,
        clock,
        pricing,
        epochInterval,
        MarketTopics.start(system),
        new SimpleMeterRegistry());
  }

  /**
   * The same, publishing on this node's {@code topics}, with each market's meters in {@code
   * registry}.
   */
  public static void init(
      ActorSystem<?> system,
      SlotClock clock,
      PricingRule pricing,
      Duration epochInterval,
      MarketTopics topics,
      MeterRegistry registry) {
    ClusterSharding.get(system)
        .init(
            Entity.of(
                    ENTITY_KEY,
                    ctx ->
                        Behaviors.setup(
                            gate ->
                                Behaviors.withTimers(
                                    timers ->
                                        new MarketGate(
                                            gate,
                                            timers,
                                            market(
                                                gate,
                                                ctx.getEntityId(),
                                                clock,
                                                pricing,
                                                epochInterval,
                                                topics,
                                                new MarketMeters(registry, ctx.getEntityId()))))))
                .withStopMessage(new Stop()));
  }

  /** Spawns the market of this gate, supervised, reporting to the gate and the topics. */
  private static MarketParts market(
      ActorContext<Message> gate,
      String model,
      SlotClock clock,
      PricingRule pricing,
      Duration epochInterval,
      MarketTopics topics,
      MarketMeters meters) {
    Market.Links links =
        new Market.Links(
            topics.epochs(),
            topics.revocations(),
            topics.leaseNotices(),
            gate.getSelf(),
            topics.views(),
            meters,
            null);
    ActorRef<Market.Command> market =
        gate.spawn(
            supervised(
                Market.create(
                    new GpuModel(model),
                    clock,
                    pricing,
                    epochInterval,
                    System::currentTimeMillis,
                    links)),
            "market");
    return new MarketParts(market, meters);
  }

  /** A gate's market and the meters they share. */
  private record MarketParts(ActorRef<Market.Command> market, MarketMeters meters) {}

  /**
   * Starts every market now rather than at its first command, so each recovers its book (and runs
   * its epochs) from the start and readiness can tell when all of them serve. Every node does it
   * again every {@link #WAKE_INTERVAL}: a market whose node was lost starts on another within that
   * (its shard moves at its next message), epochs and all, without waiting for a bid.
   */
  public static final Duration WAKE_INTERVAL = Duration.ofSeconds(1);

  public static void wake(ActorSystem<?> system, java.util.Collection<String> models) {
    ClusterSharding sharding = ClusterSharding.get(system);
    for (String model : models) {
      sharding.entityRefFor(ENTITY_KEY, model).tell(new GetHealth(system.ignoreRef()));
    }
  }

  /**
   * A market that heals: any failure (an exception in a handler, whatever its cause) restarts it
   * from its journal after a back-off, at the same address, with the commands that arrive meanwhile
   * stashed for it. Only the command that failed is lost; its caller times out and answers 503, and
   * a retry with the same idempotency key finds out what happened.
   */
  static Behavior<Market.Command> supervised(Behavior<Market.Command> market) {
    return Behaviors.supervise(market).onFailure(Exception.class, RESTART);
  }

  private final ActorRef<Market.Command> market;
  private final ActorRef<Market.BatchWritten> writtenAdapter;

  /**
   * A bid or cancel waiting for the next write: the command, where its result goes (null: the
   * market answers the command's own {@code replyTo}; else its place in a {@link PlaceAll}), and
   * when it arrived ({@link System#nanoTime}).
   */
  private record Waiting(Market.Command command, Slot slot, long arrivedNanos) {}

  /** What waits for the next write, in arrival order. */
  private List<Waiting> waiting = new ArrayList<>();

  /** The batch being written. */
  private List<Waiting> writingBatch = List.of();

  /** A bid's place in a {@link PlaceAll}. */
  private record Slot(Group group, int index) {}

  /** A {@link PlaceAll}'s results as they come in. */
  private static final class Group {
    final io.surplus.engine.ResultCode[] results;
    final ActorRef<Outcomes> replyTo;
    int remaining;

    Group(int size, ActorRef<Outcomes> replyTo) {
      this.results = new io.surplus.engine.ResultCode[size];
      this.replyTo = replyTo;
      this.remaining = size;
    }

    void set(int index, io.surplus.engine.ResultCode code) {
      results[index] = code;
      if (--remaining == 0) {
        replyTo.tell(new Outcomes(java.util.Arrays.asList(results)));
      }
    }
  }

  private boolean writing;

  /** A {@link Stop} came: the market stops once what waits is written. */
  private boolean stopping;

  private long batches;
  private long bids;
  private String status = STARTING;
  private int recoveries;
  private long sinceMillis = System.currentTimeMillis();

  public static Behavior<Message> create(ActorRef<Market.Command> market) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new MarketGate(
                        ctx,
                        timers,
                        new MarketParts(market, new MarketMeters(new SimpleMeterRegistry(), "")))));
  }

  private final TimerScheduler<Message> timers;
  private final MarketMeters meters;

  private long batchSentAt;

  private MarketGate(ActorContext<Message> ctx, TimerScheduler<Message> timers, MarketParts parts) {
    super(ctx);
    this.timers = timers;
    this.market = parts.market();
    this.meters = parts.meters();
    this.writtenAdapter = ctx.messageAdapter(Market.BatchWritten.class, Written::new);
  }

  /** This node's cluster address as host:port (a local system: its name). */
  private String node() {
    org.apache.pekko.actor.Address a = getContext().getSystem().address();
    return a.getHost().isPresent() ? a.getHost().get() + ":" + a.getPort().get() : a.system();
  }

  @Override
  public Receive<Message> createReceive() {
    return newReceiveBuilder()
        .onMessage(Place.class, this::onPlace)
        .onMessage(PlaceAll.class, this::onPlaceAll)
        .onMessage(
            Written.class,
            w -> {
              if (w.result().batch() != batches) {
                return this;
              }
              meters.batchWritten(System.nanoTime() - batchSentAt);
              List<io.surplus.engine.ResultCode> results = w.result().results();
              for (int i = 0; i < writingBatch.size() && i < results.size(); i++) {
                Slot slot = writingBatch.get(i).slot();
                if (slot != null) {
                  slot.group().set(slot.index(), results.get(i));
                }
              }
              sendWaiting();
              return stopWhenWritten();
            })
        .onMessage(
            BatchTimedOut.class,
            t -> {
              if (t.batch() != batches || !writing) {
                return this;
              }
              getContext().getLog().warn("market write of batch {} timed out", t.batch());
              sendWaiting();
              return stopWhenWritten();
            })
        .onMessage(
            Forward.class,
            f -> {
              if (f.command() instanceof Market.CancelBid cancel) {
                // a cancel rides in the next write with the bids (group commit)
                enqueue(cancel, null);
                return sendOrQueue();
              }
              market.tell(f.command());
              return this;
            })
        .onMessage(MarketRecovered.class, this::onRecovered)
        .onMessage(
            MarketFailed.class,
            f -> {
              enter(RESTARTING);
              return this;
            })
        .onMessage(
            Stop.class,
            s -> {
              stopping = true;
              return stopWhenWritten();
            })
        .onMessage(
            GetHealth.class,
            g -> {
              g.replyTo()
                  .tell(new Health(status, Math.max(0, recoveries - 1), sinceMillis, node()));
              return this;
            })
        .onMessage(
            GetStats.class,
            g -> {
              g.replyTo().tell(new Stats(batches, bids));
              return this;
            })
        .build();
  }

  /**
   * After a restart, the batch in flight (if any) will never be answered: the failure lost it or
   * its answer. Its bids' callers time out as they would on a lost write; the bids that waited
   * behind it go now instead of after {@link #BATCH_TIMEOUT}.
   */
  private Behavior<Message> onRecovered(MarketRecovered r) {
    recoveries++;
    enter(UP);
    if (recoveries > 1) {
      meters.restarted();
      getContext().getLog().warn("market recovered after a failure (restart {})", recoveries - 1);
      if (writing) {
        sendWaiting();
        return stopWhenWritten();
      }
    }
    return this;
  }

  /**
   * On a {@link Stop}: once no batch is in flight and nothing waits (the bids that waited when it
   * came are written first, answered as usual), asks the market to stop after its own writes
   * ({@link Market.Stop}) and stops when it has, so no write of this incarnation can land after the
   * next one's, wherever the shard goes.
   */
  private Behavior<Message> stopWhenWritten() {
    if (!stopping || writing || !waiting.isEmpty()) {
      return this;
    }
    timers.cancelAll();
    getContext().watch(market);
    market.tell(new Market.Stop());
    return Behaviors.receive(Message.class)
        .onMessage(
            GetHealth.class,
            g -> {
              g.replyTo()
                  .tell(new Health(status, Math.max(0, recoveries - 1), sinceMillis, node()));
              return Behaviors.same();
            })
        .onSignal(
            org.apache.pekko.actor.typed.Terminated.class,
            t -> t.getRef().equals(market) ? Behaviors.stopped() : Behaviors.same())
        .build();
  }

  private void enter(String next) {
    if (!next.equals(status)) {
      status = next;
      sinceMillis = System.currentTimeMillis();
    }
  }

  private Behavior<Message> onPlace(Place p) {
    enqueue(p.bid(), null);
    return sendOrQueue();
  }

  private Behavior<Message> onPlaceAll(PlaceAll all) {
    if (all.bids().isEmpty()) {
      all.replyTo().tell(new Outcomes(List.of()));
      return this;
    }
    Group group = new Group(all.bids().size(), all.replyTo());
    for (int i = 0; i < all.bids().size(); i++) {
      Market.PlaceBid b = all.bids().get(i);
      enqueue(
          new Market.PlaceBid(b.bid(), b.atMillis(), b.deadlineMillis(), null), new Slot(group, i));
    }
    return sendOrQueue();
  }

  private void enqueue(Market.Command bid, Slot slot) {
    waiting.add(new Waiting(bid, slot, System.nanoTime()));
  }

  /** Sends what waits if no write is in flight; otherwise it waits for the next one. */
  private Behavior<Message> sendOrQueue() {
    if (!writing) {
      return sendWaiting();
    }
    meters.queued(waiting.size());
    return this;
  }

  private Behavior<Message> sendWaiting() {
    timers.cancel(BatchTimedOut.class);
    if (waiting.isEmpty()) {
      writing = false;
      return this;
    }
    long oldest = waiting.get(0).arrivedNanos();
    if (waiting.size() <= MAX_BATCH) {
      writingBatch = waiting;
      waiting = new ArrayList<>();
    } else {
      writingBatch = new ArrayList<>(waiting.subList(0, MAX_BATCH));
      waiting = new ArrayList<>(waiting.subList(MAX_BATCH, waiting.size()));
    }
    List<Market.Command> batch = writingBatch.stream().map(Waiting::command).toList();
    batchSentAt = System.nanoTime();
    meters.batchSent(batch.size(), batchSentAt - oldest);
    meters.queued(waiting.size());
    writing = true;
    batches++;
    bids += batch.size();
    market.tell(new Market.PlaceBids(batches, batch, writtenAdapter));
    timers.startSingleTimer(BatchTimedOut.class, new BatchTimedOut(batches), BATCH_TIMEOUT);
    return this;
  }
}
