package io.surplus.market.app;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;

/**
 * Keeps a node that was paused (stopped, frozen in a long GC, its VM suspended) from writing to the
 * journal after the rest of the cluster may have downed it and started its entities elsewhere.
 *
 * <p>The Split Brain Resolver downs an unreachable node only once the membership has been stable
 * for {@code stable-after}, so a node paused for less cannot have been downed; one paused for
 * longer may have been, and then another node may already write its entities' journals. The first
 * thing such a node would do when it runs again is fire its overdue timers: a market's epoch tick
 * writes at once, before the node hears that it was downed. So the journal's session ({@link
 * FencedSession}) asks {@link #mayWrite()} before it hands any statement to the driver: a pause
 * longer than {@link #limit()} (half of {@code stable-after}) since the last tick of this fence's
 * clock, seen by the clock's own tick or by the statement itself, fences the node for good: no
 * statement passes, and the node downs itself and stops. A pause that falls between the check and
 * the statement's send is not covered: the driver's hand-over to its event loop, where the pause
 * would have to start.
 */
public final class PauseFence implements Extension {

  /** How often the fence's clock ticks. */
  static final Duration TICK = Duration.ofMillis(100);

  private final long limitNanos;
  private final LongSupplier nanoTime;
  private final BooleanSupplier alone;
  private final Consumer<Long> onFence;
  private volatile long lastTick;
  private volatile boolean fenced;

  /**
   * A fence with its own clock ({@code nanoTime}); {@code onFence} gets the pause, in nanoseconds,
   * that fenced it (once). Nothing ticks it but {@link #tick()}. While {@code alone} (the node is
   * its cluster's only member: nobody could have taken its entities over), a pause fences nothing,
   * so a single node survives a laptop's sleep.
   */
  PauseFence(Duration limit, LongSupplier nanoTime, BooleanSupplier alone, Consumer<Long> onFence) {
    this.limitNanos = limit.toNanos();
    this.nanoTime = nanoTime;
    this.alone = alone;
    this.onFence = onFence;
    this.lastTick = nanoTime.getAsLong();
  }

  public static PauseFence get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /**
   * The node's fence: half of the Split Brain Resolver's {@code stable-after}, ticked every {@link
   * #TICK} by a thread of its own; once fenced, the node downs itself.
   */
  static PauseFence of(ActorSystem<?> system) {
    Duration stableAfter =
        system.settings().config().getDuration("pekko.cluster.split-brain-resolver.stable-after");
    PauseFence fence =
        new PauseFence(
            stableAfter.dividedBy(2),
            System::nanoTime,
            () -> Cluster.get(system).state().members().size() <= 1,
            gap -> {
              system
                  .log()
                  .error(
                      "this node was paused for {} ms, past {} ms: the cluster may have downed it"
                          + " and moved its entities, so it writes no more and downs itself",
                      TimeUnit.NANOSECONDS.toMillis(gap),
                      stableAfter.dividedBy(2).toMillis());
              Cluster cluster = Cluster.get(system);
              cluster.manager().tell(new Down(cluster.selfMember().address()));
            });
    ScheduledExecutorService clock =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "surplus-pause-fence");
              t.setDaemon(true);
              return t;
            });
    clock.scheduleAtFixedRate(fence::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    system.getWhenTerminated().thenRun(clock::shutdownNow);
    return fence;
  }

  /** The longest pause after which the node still writes. */
  public Duration limit() {
    return Duration.ofNanos(limitNanos);
  }

  /** The clock's tick: a gap since the last one past the limit fences the node. */
  void tick() {
    long now = nanoTime.getAsLong();
    if (now - lastTick > limitNanos) {
      fence(now - lastTick);
    }
    lastTick = now;
  }

  /** Whether the node may write: false for good once a pause past the limit has been seen. */
  public boolean mayWrite() {
    long gap = nanoTime.getAsLong() - lastTick;
    if (gap > limitNanos) {
      fence(gap);
    }
    return !fenced;
  }

  private synchronized void fence(long gapNanos) {
    if (fenced || alone.getAsBoolean()) {
      return;
    }
    fenced = true;
    onFence.accept(gapNanos);
  }

  static final class Id extends ExtensionId<PauseFence> {
    static final Id INSTANCE = new Id();

    @Override
    public PauseFence createExtension(ActorSystem<?> system) {
      return PauseFence.of(system);
    }
  }
}
