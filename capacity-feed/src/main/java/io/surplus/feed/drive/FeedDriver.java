package io.surplus.feed.drive;

import io.surplus.engine.RevocationKind;
import io.surplus.feed.drive.MarketClient.Accepted;
import io.surplus.feed.drive.MarketClient.Created;
import io.surplus.feed.drive.MarketClient.Failed;
import io.surplus.feed.drive.MarketClient.Gap;
import io.surplus.feed.drive.MarketClient.Rejected;
import io.surplus.feed.drive.MarketClient.Reply;
import io.surplus.feed.drive.MarketClient.Unavailable;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.FeedWriter;
import io.surplus.feed.protocol.Heartbeat;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import io.surplus.feed.sim.DemandBid;
import io.surplus.feed.sim.SimResult;
import io.surplus.feed.sim.TrainingFleetSim;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Feeds a running marketplace with the training-window simulator's capacity, and optionally its
 * seeded outside demand, over HTTP and in accelerated time.
 *
 * <p>{@link #start()} maps the simulation's first instant to now (moved up to the next slot
 * boundary, see {@link TimeMapping#startingAt}), runs the simulation, and from then on wakes every
 * {@link DriverConfig#tick()} on one thread of its own, which sleeps in between, to send what has
 * come due: the feed events due within the next tick in one {@code POST /v1/feed} (numbered on from
 * the position the service reports), then the bids due within the next tick, one {@code POST
 * /v1/bids} each. Events go out at their real time, never more than a tick early; see {@link
 * FeedSchedule} for the exceptions that keep windows inside the horizon and notice promises kept.
 *
 * <p>It promises:
 *
 * <ul>
 *   <li>every event reaches the service once and in order, with gap-free sequence numbers: after a
 *       failed request (connection refused or dropped, timeout, 5xx) it backs off, reads {@code GET
 *       /v1/feed/position} and resends from there, so lines the service already applied are not
 *       sent again, and a resend of lines it did apply would be skipped as duplicates anyway;
 *   <li>a line the service refuses (422) is dropped, with the later events of a window whose
 *       opening was refused, and the lines after it are renumbered and sent on;
 *   <li>a planned revocation that, after an outage, can no longer keep its notice goes out as an
 *       emergency, which is what it has become;
 *   <li>each bid keeps one idempotency key, derived from the seed, the run and its index, and one
 *       body for all its retries; a bid the service refuses (4xx) is not retried;
 *   <li>{@link #close()} stops it within a request timeout, and it never busy-waits.
 * </ul>
 *
 * <p>Thread-safe: {@link #start()}, {@link #stats()}, {@link #awaitFinished} and {@link #close()}
 * may be called from any thread; the counters have one writer, the driver's thread.
 */
public final class FeedDriver implements AutoCloseable {

  /** A planned revocation is due this long before the last instant that keeps its notice. */
  static final long PLANNED_SAFETY_MILLIS = 500;

  /** A planned revocation sent with less than this to spare before its notice runs out is late. */
  static final long LATE_MARGIN_MILLIS = 250;

  private static final System.Logger LOG = System.getLogger(FeedDriver.class.getName());

  private final DriverConfig config;
  private final MarketClient client;
  private final ScheduledThreadPoolExecutor executor;
  private final CountDownLatch done = new CountDownLatch(1);
  private final long tickMillis;

  private volatile TimeMapping mapping;
  private volatile String windowIdPrefix;
  private volatile String bidKeyPrefix;
  private volatile boolean started;
  private volatile boolean closed;
  private volatile boolean finished;

  // The driver thread's own state.
  private List<FeedSchedule.Entry> schedule = List.of();
  private int nextEntry;
  private final ArrayDeque<Outgoing> inFlight = new ArrayDeque<>();
  private final Set<String> rejectedWindows = new HashSet<>();
  private final Set<String> skippedWindows = new HashSet<>();
  private DemandSchedule demand;
  private PendingBid pendingBid;
  private boolean positionKnown;
  private long feedRetryAt;
  private long feedBackoff;
  private long bidRetryAt;
  private long bidBackoff;
  private long lastFeedSend;

  // Counters: written by the driver thread only, read by anyone.
  private volatile long totalEvents;
  private volatile long lastApplied;
  private volatile long eventsSent;
  private volatile long eventsApplied;
  private volatile long duplicates;
  private volatile long eventsRejected;
  private volatile long eventsSkipped;
  private volatile long lateRevocations;
  private volatile long bidsPlaced;
  private volatile long bidsRejected;
  private volatile long bidsSkipped;
  private volatile long errors;
  private volatile String lastError;

  /** A driver for {@code config}; nothing happens until {@link #start()}. */
  public FeedDriver(DriverConfig config) {
    this.config = config;
    this.client =
        new MarketClient(config.baseUrl(), config.connectTimeout(), config.requestTimeout());
    this.tickMillis = config.tick().toMillis();
    this.feedBackoff = config.initialBackoff().toMillis();
    this.bidBackoff = feedBackoff;
    this.executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "surplus-feed-driver");
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true);
  }

  /**
   * A driver with the defaults ({@link DriverConfig#builder}): seed 7, speed 60, slots of 15 s, the
   * default fleet. {@code bidderKey} may be {@code null}: then no bids are placed.
   */
  public FeedDriver(URI baseUrl, String providerKey, String bidderKey) {
    this(DriverConfig.builder(baseUrl, providerKey).bidderKey(bidderKey).build());
  }

  /**
   * Fixes the time mapping at now and starts driving on the driver's thread; returns at once. The
   * simulation itself (about half a second for the default 54 days) runs on that thread.
   *
   * @throws IllegalStateException when started before or closed
   */
  public synchronized void start() {
    if (closed || started) {
      throw new IllegalStateException(closed ? "driver is closed" : "driver already started");
    }
    started = true;
    Instant now = config.clock().instant();
    mapping =
        TimeMapping.startingAt(
            config.simConfig().start(), now, config.speed(), config.slotSeconds());
    String run = "r" + Long.toString(mapping.realStart().getEpochSecond(), 36);
    windowIdPrefix = config.windowIdPrefix().orElse(run + ".");
    bidKeyPrefix = "sim-" + config.seed() + "-" + run + "-b";
    lastFeedSend = now.toEpochMilli();
    executor.execute(this::prepare);
  }

  /** The time mapping, fixed by {@link #start()}; {@code null} before. */
  public TimeMapping timeMapping() {
    return mapping;
  }

  /** What goes before each simulated window id, fixed by {@link #start()}; {@code null} before. */
  public String windowIdPrefix() {
    return windowIdPrefix;
  }

  /** What goes before each bid's index in its idempotency key; {@code null} before start. */
  public String bidKeyPrefix() {
    return bidKeyPrefix;
  }

  public DriverConfig config() {
    return config;
  }

  /** The counters now. */
  public DriverStats stats() {
    TimeMapping m = mapping;
    return new DriverStats(
        m == null ? null : m.toSim(config.clock().instant()),
        lastApplied,
        eventsSent,
        eventsApplied,
        duplicates,
        eventsRejected,
        eventsSkipped,
        Math.max(0, totalEvents - eventsApplied - eventsRejected - eventsSkipped),
        lateRevocations,
        bidsPlaced,
        bidsRejected,
        bidsSkipped,
        errors,
        finished,
        lastError);
  }

  /** Whether every event and bid of the simulation has been dealt with. */
  public boolean isFinished() {
    return finished;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Waits until the driver has finished or is closed, or {@code timeout} passes.
   *
   * @return whether it finished
   */
  public boolean awaitFinished(Duration timeout) throws InterruptedException {
    done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    return finished;
  }

  /** Stops driving: interrupts a request under way and waits for the driver's thread to end. */
  @Override
  public void close() {
    closed = true;
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(
          config.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
        LOG.log(Level.WARNING, "feed driver thread did not stop in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    done.countDown();
  }

  private void prepare() {
    try {
      SimResult sim = TrainingFleetSim.run(config.simConfig(), config.seed());
      schedule =
          FeedSchedule.build(
              sim.events(),
              mapping,
              windowIdPrefix,
              (long) config.horizonSlots() * config.slotSeconds() * 1000L,
              PLANNED_SAFETY_MILLIS);
      totalEvents = schedule.size();
      config
          .bidderKey()
          .ifPresent(
              k ->
                  demand =
                      new DemandSchedule(
                          config.demandConfig(),
                          config.seed(),
                          config.simConfig().start(),
                          config.simConfig().days(),
                          mapping,
                          bidKeyPrefix));
      LOG.log(
          Level.INFO,
          "feed driver: {0} events over {1} simulated days from {2}, at {3}x from {4}",
          schedule.size(),
          config.simConfig().days(),
          config.simConfig().start(),
          config.speed(),
          mapping.realStart());
    } catch (RuntimeException e) {
      error("simulation failed: " + e);
      LOG.log(Level.ERROR, "feed driver: simulation failed", e);
      done.countDown();
      return;
    }
    loop();
  }

  private void loop() {
    if (closed) {
      return;
    }
    long delay;
    try {
      delay = tick();
    } catch (InterruptedException e) {
      return;
    } catch (RuntimeException e) {
      error("driver tick failed: " + e);
      LOG.log(Level.ERROR, "feed driver: tick failed", e);
      delay = config.maxBackoff().toMillis();
    }
    if (finished) {
      LOG.log(Level.INFO, "feed driver finished: {0}", stats().statusLine());
      done.countDown();
      executor.shutdown();
      return;
    }
    try {
      executor.schedule(this::loop, delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // close() got there first.
    }
  }

  /** Sends what is due; returns how long to sleep before the next tick. */
  private long tick() throws InterruptedException {
    long now = config.clock().millis();
    boolean more = false;
    if (now >= feedRetryAt) {
      more = feedStep(now);
    }
    if (demand != null && now >= bidRetryAt) {
      more |= bidStep(config.clock().millis());
    }
    finished =
        nextEntry == schedule.size()
            && inFlight.isEmpty()
            && (demand == null || (pendingBid == null && demand.peek() == null));
    // A backlog (a batch or a tick's bids were full) goes on at once; the requests pace it.
    return more ? 0 : tickMillis;
  }

  // ---- feed

  /** An event taken from the schedule, not yet confirmed applied. */
  private static final class Outgoing {
    FeedEvent event;
    long noticeDeadline;

    Outgoing(FeedEvent event, long noticeDeadline) {
      this.event = event;
      this.noticeDeadline = noticeDeadline;
    }
  }

  /** One feed round: position if unknown, then one POST. Returns whether more is due at once. */
  private boolean feedStep(long now) throws InterruptedException {
    try {
      if (!positionKnown) {
        Reply r = client.position(config.providerKey());
        if (!(r instanceof Accepted a)) {
          feedFailed(now, describe(r), r);
          return false;
        }
        advanceTo(a.lastApplied());
        positionKnown = true;
      }
      fill(now);
      if (inFlight.isEmpty()) {
        return false;
      }
      long first = lastApplied + 1;
      String body = render(now, first);
      int lines = inFlight.size();
      Reply r = client.postFeed(config.providerKey(), body);
      eventsSent += lines;
      if (r instanceof Accepted a) {
        feedOk(now);
        duplicates += a.duplicates();
        advanceTo(a.lastApplied());
      } else if (r instanceof Rejected x) {
        feedOk(now);
        refused(first, x);
      } else {
        if (r instanceof Gap g) {
          // Our numbering is off; the service says where it stands. Resend from there.
          advanceTo(g.lastApplied());
        }
        feedFailed(now, describe(r), r);
        return false;
      }
    } catch (IOException e) {
      feedFailed(now, "feed: " + e, null);
      return false;
    }
    return !inFlight.isEmpty() || dueAt(config.clock().millis());
  }

  private boolean dueAt(long now) {
    return nextEntry < schedule.size() && schedule.get(nextEntry).dueMillis() <= now + tickMillis;
  }

  /** Takes events due within the next tick into the batch. */
  private void fill(long now) {
    while (inFlight.size() < config.maxBatch() && dueAt(now)) {
      FeedSchedule.Entry e = schedule.get(nextEntry++);
      String id = e.windowId();
      if (rejectedWindows.contains(id)) {
        eventsRejected++;
      } else if (skippedWindows.contains(id)) {
        eventsSkipped++;
      } else if (e.event() instanceof WindowOpened o && o.end().toEpochMilli() <= now) {
        // Behind after an outage: the window is over before the service could hear of it.
        skippedWindows.add(id);
        eventsSkipped++;
      } else {
        inFlight.add(new Outgoing(e.event(), e.noticeDeadlineMillis()));
      }
    }
    long every = config.heartbeatEvery().toMillis();
    if (inFlight.isEmpty() && every > 0 && now - lastFeedSend >= every) {
      inFlight.add(
          new Outgoing(new Heartbeat(1, Optional.of(Instant.ofEpochMilli(now))), Long.MAX_VALUE));
    }
  }

  /** The batch as NDJSON, numbered from {@code first}. */
  private String render(long now, long first) {
    StringBuilder body = new StringBuilder(inFlight.size() * 256);
    long seq = first;
    for (Outgoing o : inFlight) {
      if (o.event instanceof WindowRevoked r
          && r.kind() == RevocationKind.PLANNED
          && now + LATE_MARGIN_MILLIS > o.noticeDeadline) {
        o.event = FeedSchedule.asEmergency(r);
        o.noticeDeadline = Long.MAX_VALUE;
        lateRevocations++;
      }
      body.append(FeedWriter.toJson(FeedSchedule.withSeq(o.event, seq++))).append('\n');
    }
    return body.toString();
  }

  /**
   * The service is at {@code position}: the batch's events up to it are applied. A position behind
   * ours means the service lost events, which cannot be sent again; ahead of the batch means
   * someone else feeds with this key.
   */
  private void advanceTo(long position) {
    long confirmed = position - lastApplied;
    if (confirmed < 0) {
      error("service position went back from " + lastApplied + " to " + position);
      LOG.log(Level.WARNING, "feed driver: {0}", lastError);
    } else {
      if (positionKnown && confirmed > inFlight.size()) {
        LOG.log(
            Level.WARNING,
            "feed driver: service position {0} is ahead of this driver ({1} + {2} in flight);"
                + " is another sender using this provider key?",
            position,
            lastApplied,
            inFlight.size());
      }
      for (long i = 0; i < confirmed && !inFlight.isEmpty(); i++) {
        if (!(inFlight.poll().event instanceof Heartbeat)) {
          eventsApplied++;
        }
      }
    }
    lastApplied = position;
  }

  /** A 422: the lines before the bad one are applied; the bad one is dropped, the rest go on. */
  private void refused(long first, Rejected x) {
    long badSeq = first + x.line() - 1;
    advanceTo(x.lastApplied());
    if (inFlight.isEmpty() || lastApplied + 1 != badSeq) {
      error("feed: 422 for line " + x.line() + " does not fit position " + x.lastApplied());
      positionKnown = false;
      return;
    }
    FeedEvent bad = inFlight.poll().event;
    eventsRejected++;
    LOG.log(
        Level.WARNING,
        "feed driver: service refused {0} (field {1}: {2}); dropped it",
        FeedWriter.toJson(FeedSchedule.withSeq(bad, badSeq)),
        x.field(),
        x.detail());
    if (bad instanceof WindowOpened o) {
      rejectedWindows.add(o.windowId());
      int before = inFlight.size();
      inFlight.removeIf(g -> rejectedWindows.contains(FeedSchedule.windowId(g.event)));
      eventsRejected += before - inFlight.size();
    }
  }

  private void feedOk(long now) {
    feedBackoff = config.initialBackoff().toMillis();
    lastFeedSend = now;
  }

  private void feedFailed(long now, String what, Reply r) {
    error(what);
    positionKnown = false;
    long wait = Math.max(feedBackoff, retryAfterMillis(r));
    feedRetryAt = now + wait;
    feedBackoff = Math.min(feedBackoff * 2, config.maxBackoff().toMillis());
    LOG.log(Level.INFO, "feed driver: {0}; resuming from the position in {1} ms", what, wait);
  }

  // ---- demand

  private record PendingBid(String key, String json) {}

  /** Places the bids due within the next tick. Returns whether more are due at once. */
  private boolean bidStep(long now) throws InterruptedException {
    String bidderKey = config.bidderKey().orElseThrow();
    for (int n = 0; n < config.maxBidsPerTick(); ) {
      if (pendingBid == null) {
        DemandSchedule.Bid b = demand.peek();
        if (b == null || b.dueMillis() > now + tickMillis) {
          return false;
        }
        DemandBid real =
            DemandSchedule.toReal(
                b.simBid(), mapping, config.clock().millis(), config.slotSeconds());
        if (real == null) {
          bidsSkipped++;
          demand.pop();
          continue;
        }
        pendingBid = new PendingBid(b.idempotencyKey(), DemandSchedule.json(real));
      }
      Reply r;
      try {
        r = client.postBid(bidderKey, pendingBid.key(), pendingBid.json());
      } catch (IOException e) {
        bidFailed(now, "bids: " + e, null);
        return false;
      }
      n++;
      if (r instanceof Created) {
        bidsPlaced++;
      } else if (r instanceof Failed f && !f.retryable()) {
        bidsRejected++;
        LOG.log(
            Level.DEBUG,
            "feed driver: bid {0} refused ({1}): {2}",
            pendingBid.key(),
            f.status(),
            f.detail());
      } else {
        bidFailed(now, describe(r), r);
        return false;
      }
      bidBackoff = config.initialBackoff().toMillis();
      pendingBid = null;
      demand.pop();
    }
    return true;
  }

  private void bidFailed(long now, String what, Reply r) {
    error(what);
    long wait = Math.max(bidBackoff, retryAfterMillis(r));
    bidRetryAt = now + wait;
    bidBackoff = Math.min(bidBackoff * 2, config.maxBackoff().toMillis());
    LOG.log(Level.INFO, "feed driver: {0}; retrying the bid in {1} ms", what, wait);
  }

  // ---- shared

  private void error(String what) {
    errors++;
    lastError = what;
  }

  private static long retryAfterMillis(Reply r) {
    return r instanceof Unavailable u ? u.retryAfter().toMillis() : 0;
  }

  private static String describe(Reply r) {
    if (r instanceof Unavailable u) {
      return "503 service unavailable: " + u.detail();
    }
    if (r instanceof Gap g) {
      return "409 sequence gap, service at " + g.lastApplied() + ": " + g.detail();
    }
    if (r instanceof Failed f) {
      return f.status() + ": " + f.detail();
    }
    return "unexpected reply " + r;
  }
}
