package io.surplus.market.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.surplus.engine.BidSpec;
import io.surplus.engine.GpuModel;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.whatif.RandomMarket;
import io.surplus.market.cassandra.CassandraNode;
import io.surplus.market.markets.Market;
import io.surplus.market.markets.MarketGate;
import io.surplus.market.markets.MarketMeters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One market at full book, in process, on a real Cassandra node: bid acknowledgement latency (the
 * market's gate, its group commit and the journal write) while epochs clear every second, on an
 * empty book and on a book of {@code --prefill} open bids that must be searched (the engine
 * benchmark's random market: above reserve, more demand than supply), side by side in one run.
 *
 * <p>Run with {@code ./surplus bench market [--prefill N] [--rate R] [--seconds S]}. The load is an
 * open model: {@code R} bids a second whatever the answers, from a scheduler thread (no spinning);
 * latency is from sending to the acknowledgement.
 */
public final class MarketAtFullBook {

  private MarketAtFullBook() {}

  public static void main(String[] args) throws Exception {
    int prefill = intArg(args, "--prefill", 100_000);
    int rate = intArg(args, "--rate", 500);
    int seconds = intArg(args, "--seconds", 30);
    int warmup = intArg(args, "--warmup", 10);
    int port = intArg(args, "--cql-port", 9442);
    CassandraNode.CommitlogSync sync =
        CassandraNode.CommitlogSync.parse(stringArg(args, "--commitlog-sync", "periodic"));
    boolean emptyOnly = prefill == 0;
    Path home =
        Path.of(System.getProperty("surplus.bench.home", "marketplace/target/bench-cassandra"));
    io.surplus.market.cassandra.TestCassandra.deleteTree(home);
    String cp =
        Files.readString(Path.of(System.getProperty("surplus.cassandra.classpath-file"))).strip();
    try (CassandraNode node =
        CassandraNode.start(
            CassandraNode.Settings.onPort(home.toAbsolutePath(), port).withSync(sync),
            cp,
            Duration.ofMinutes(3))) {
      Config config =
          ConfigFactory.parseString(
                  "datastax-java-driver.basic.contact-points = [\"127.0.0.1:"
                      + port
                      + "\"]\npekko.remote.artery.canonical.port = 0\n"
                      + "pekko.loglevel = WARNING")
              .withFallback(ConfigFactory.load());
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench", config);
      try {
        System.out.printf(
            Locale.ROOT,
            "one market, epochs every 1 s, %d bids/s for %d s (after %d s of warm-up),"
                + " commit log sync %s%n",
            rate,
            seconds,
            warmup,
            sync.name().toLowerCase(Locale.ROOT));
        // a throwaway phase first: the JIT, the journal's tables and the node's caches warm up on
        // it, not on whichever phase would come first
        run(system, "warm-up", 0, null, rate, 0, warmup);
        Phase empty = run(system, "empty", 0, null, rate, warmup, seconds);
        if (emptyOnly) {
          System.out.println();
          System.out.println(Phase.HEADER);
          System.out.println(empty.line());
          return;
        }
        Phase full = run(system, "full", prefill, null, rate, warmup, seconds);
        // as before epochs left the actor: the same clearing, run on the market's own thread
        Phase onActor = run(system, "full-on-actor", prefill, Runnable::run, rate, warmup, seconds);
        System.out.println();
        System.out.println(Phase.HEADER);
        System.out.println(empty.line());
        System.out.println(full.line());
        System.out.println(onActor.line());
        System.out.printf(
            Locale.ROOT,
            "ratio full/empty: p50 %.2f, p99 %.2f%n",
            full.ack.getValueAtPercentile(50) / (double) empty.ack.getValueAtPercentile(50),
            full.ack.getValueAtPercentile(99) / (double) empty.ack.getValueAtPercentile(99));
        System.out.printf(
            Locale.ROOT,
            "ratio full-on-actor/empty: p50 %.2f, p99 %.2f%n",
            onActor.ack.getValueAtPercentile(50) / (double) empty.ack.getValueAtPercentile(50),
            onActor.ack.getValueAtPercentile(99) / (double) empty.ack.getValueAtPercentile(99));
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(1, TimeUnit.MINUTES);
      }
    }
  }

  /** What one phase measured. */
  record Phase(
      String name,
      int openAtStart,
      Histogram ack,
      long sent,
      long refused,
      long unanswered,
      long epochs,
      double epochMeanMs,
      double epochMaxMs,
      long snapshots) {

    static final String HEADER =
        "book           open bids  acks    p50 ms  p90 ms  p99 ms  p99.9 ms  max ms  refused  unanswered"
            + "  epochs  epoch mean ms  epoch max ms  snapshots";

    String line() {
      return String.format(
          Locale.ROOT,
          "%-13s %10d %6d %8.2f %7.2f %7.2f %9.2f %7.2f %8d %11d %7d %14.1f %13.1f %10d",
          name,
          openAtStart,
          ack.getTotalCount(),
          ack.getValueAtPercentile(50) / 1e3,
          ack.getValueAtPercentile(90) / 1e3,
          ack.getValueAtPercentile(99) / 1e3,
          ack.getValueAtPercentile(99.9) / 1e3,
          ack.getMaxValue() / 1e3,
          refused,
          unanswered,
          epochs,
          epochMeanMs,
          epochMaxMs,
          snapshots);
    }
  }

  /**
   * One phase on a market of its own: {@code prefill} open bids, then the load. {@code clearing}
   * null clears on the clearing dispatcher, as the service does; {@code Runnable::run} clears on
   * the market's actor, as the service did before.
   */
  static Phase run(
      ActorSystem<Void> system,
      String name,
      int prefill,
      java.util.concurrent.Executor clearing,
      int rate,
      int warmup,
      int seconds)
      throws Exception {
    String model = name.toUpperCase(Locale.ROOT) + "-" + System.nanoTime();
    SlotClock clock = SlotClock.DEFAULT;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MarketMeters meters = new MarketMeters(registry, model);
    ActorRef<Market.Command> market =
        spawn(
            system,
            Market.create(
                new GpuModel(model),
                clock,
                PricingRule.PAY_AS_CLEAR,
                Duration.ofSeconds(1),
                System::currentTimeMillis,
                new Market.Links(null, null, null, null, null, meters, clearing)),
            "market-" + model);
    ActorRef<MarketGate.Message> gate = spawn(system, MarketGate.create(market), "gate-" + model);
    Duration timeout = Duration.ofSeconds(30);

    long now = System.currentTimeMillis();
    int nowSlot = clock.slotAtOrAfter(now) + 1;
    RandomMarket random = new RandomMarket(42, clock, RandomMarket.Shape.DEFAULT);
    for (int i = 0; i < 512; i++) {
      WindowSpec w = random.window(nowSlot, clock.horizonSlots() - 2);
      ResultCode rc =
          AskPattern.<Market.Command, Market.Outcome>ask(
                  market,
                  r -> new Market.OfferWindow(w, "bench", now, r),
                  timeout,
                  system.scheduler())
              .toCompletableFuture()
              .get()
              .code();
      check(rc, "window");
    }
    // the book, in journal writes of 1,000 bids
    for (int done = 0; done < prefill; ) {
      int n = Math.min(1000, prefill - done);
      CompletableFuture<Integer> refusedInBatch = new CompletableFuture<>();
      ActorRef<Market.Outcome> reply = collector(system, n, refusedInBatch);
      List<Market.Command> batch = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        batch.add(
            Market.PlaceBid.of(gtc(random.bid(nowSlot, clock.horizonSlots() - 2)), now, reply));
      }
      long b = done;
      AskPattern.<Market.Command, Market.BatchWritten>ask(
              market, r -> new Market.PlaceBids(b, batch, r), timeout, system.scheduler())
          .toCompletableFuture()
          .get();
      if (refusedInBatch.get() > 0) {
        throw new IllegalStateException(refusedInBatch.get() + " prefill bids refused");
      }
      done += n;
    }
    // the first epoch of the full book is a full search; wait until it is behind us
    Timer clears = registry.find("surplus.market.epoch.clear").timer();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (prefill > 0 && (clears == null || clears.count() == 0) && System.nanoTime() < deadline) {
      Thread.sleep(100); // a harness waiting for its subject's first epoch, not a test
      clears = registry.find("surplus.market.epoch.clear").timer();
    }
    int open = prefill;

    Recorder recorder = new Recorder(3);
    AtomicLong sent = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong answered = new AtomicLong();
    AtomicLong measuring = new AtomicLong(Long.MAX_VALUE);
    ScheduledExecutorService sender = Executors.newSingleThreadScheduledExecutor();
    long periodNanos = 1_000_000_000L / rate;
    long epochsBefore = 0;
    double totalBefore = 0;
    sender.scheduleAtFixedRate(
        () -> {
          BidSpec bid = gtc(random.bid(nowSlot, clock.horizonSlots() - 2));
          long started = System.nanoTime();
          boolean counted = started >= measuring.get();
          if (counted) {
            sent.incrementAndGet();
          }
          CompletionStage<Market.Outcome> ack =
              AskPattern.ask(
                  gate,
                  r ->
                      new MarketGate.Place(
                          new Market.PlaceBid(
                              bid,
                              System.currentTimeMillis(),
                              System.currentTimeMillis() + timeout.toMillis(),
                              r)),
                  timeout,
                  system.scheduler());
          ack.whenComplete(
              (o, failure) -> {
                if (!counted) {
                  return;
                }
                if (failure == null) {
                  answered.incrementAndGet();
                  if (o.code() == ResultCode.OK) {
                    recorder.recordValue((System.nanoTime() - started) / 1000);
                  } else {
                    refused.incrementAndGet();
                  }
                }
              });
        },
        0,
        periodNanos,
        TimeUnit.NANOSECONDS);
    TimeUnit.SECONDS.sleep(warmup);
    Timer t = registry.find("surplus.market.epoch.clear").timer();
    if (t != null) {
      epochsBefore = t.count();
      totalBefore = t.totalTime(TimeUnit.MILLISECONDS);
    }
    long snapshotsBefore = snapshots(registry);
    recorder.reset();
    measuring.set(System.nanoTime());
    TimeUnit.SECONDS.sleep(seconds);
    measuring.set(Long.MIN_VALUE); // nothing sent from here on is counted
    long snapshotsDuring = snapshots(registry) - snapshotsBefore;
    sender.shutdown();
    sender.awaitTermination(1, TimeUnit.MINUTES);
    Histogram ack = recorder.getIntervalHistogram();
    // late answers still count: wait for them against the ask timeout
    long waitUntil = System.nanoTime() + timeout.toNanos();
    while (answered.get() < sent.get() && System.nanoTime() < waitUntil) {
      Thread.sleep(50);
      ack.add(recorder.getIntervalHistogram());
    }
    ack.add(recorder.getIntervalHistogram());
    t = registry.find("surplus.market.epoch.clear").timer();
    long epochs = t == null ? 0 : t.count() - epochsBefore;
    double mean = epochs == 0 ? 0 : (t.totalTime(TimeUnit.MILLISECONDS) - totalBefore) / epochs;
    double max = t == null ? 0 : t.max(TimeUnit.MILLISECONDS);
    return new Phase(
        name,
        open,
        ack,
        sent.get(),
        refused.get(),
        sent.get() - answered.get(),
        epochs,
        mean,
        max,
        snapshotsDuring);
  }

  /** Snapshots the phase's market has taken so far. */
  private static long snapshots(SimpleMeterRegistry registry) {
    var s = registry.find("surplus.market.snapshot.bids").summary();
    return s == null ? 0 : s.count();
  }

  private static BidSpec gtc(BidSpec b) {
    return b.withTimeInForce(TimeInForce.GTC, b.expiresAtMillis());
  }

  private static void check(ResultCode rc, String what) {
    if (rc != ResultCode.OK) {
      throw new IllegalStateException(what + " refused: " + rc);
    }
  }

  private static <T> ActorRef<T> spawn(
      ActorSystem<Void> system, org.apache.pekko.actor.typed.Behavior<T> behavior, String name)
      throws Exception {
    return AskPattern.<org.apache.pekko.actor.typed.SpawnProtocol.Command, ActorRef<T>>ask(
            spawner(system),
            r ->
                new org.apache.pekko.actor.typed.SpawnProtocol.Spawn<>(
                    behavior, name, org.apache.pekko.actor.typed.Props.empty(), r),
            Duration.ofSeconds(10),
            system.scheduler())
        .toCompletableFuture()
        .get();
  }

  private static ActorRef<org.apache.pekko.actor.typed.SpawnProtocol.Command> spawner;

  private static synchronized ActorRef<org.apache.pekko.actor.typed.SpawnProtocol.Command> spawner(
      ActorSystem<Void> system) {
    if (spawner == null) {
      spawner =
          system.systemActorOf(
              org.apache.pekko.actor.typed.SpawnProtocol.create(),
              "bench-spawner",
              org.apache.pekko.actor.typed.Props.empty());
    }
    return spawner;
  }

  /**
   * An actor that takes {@code n} outcomes, then completes {@code refused} with how many failed.
   */
  private static ActorRef<Market.Outcome> collector(
      ActorSystem<Void> system, int n, CompletableFuture<Integer> refused) {
    int[] seen = new int[2];
    return system.systemActorOf(
        Behaviors.<Market.Outcome>receiveMessage(
            o -> {
              seen[0]++;
              seen[1] += o.code() == ResultCode.OK ? 0 : 1;
              if (seen[0] < n) {
                return Behaviors.same();
              }
              refused.complete(seen[1]);
              return Behaviors.stopped();
            }),
        "prefill-" + COLLECTORS.incrementAndGet(),
        org.apache.pekko.actor.typed.Props.empty());
  }

  private static final AtomicLong COLLECTORS = new AtomicLong();

  private static String stringArg(String[] args, String name, String fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }

  private static int intArg(String[] args, String name, int fallback) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1].replace("_", "").replace(",", ""));
      }
    }
    return fallback;
  }
}
