package io.surplus.market.markets;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.surplus.engine.book.EpochResult;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one market shows on {@code /metrics}, tagged {@code market=<GPU model>}: how long its epochs
 * take to clear and what they do, how many bids it holds, and how its gate groups bids into journal
 * writes. Enough to see a market saturate: clear time near the epoch interval, batches near {@link
 * MarketGate#MAX_BATCH}, a queue that grows.
 */
public final class MarketMeters {

  private final Timer clear;
  private final Timer durable;
  private final DistributionSummary searched;
  private final DistributionSummary leases;
  private final DistributionSummary repairFills;
  private final AtomicLong openBids = new AtomicLong();
  private final DistributionSummary batchBids;
  private final Timer batchWrite;
  private final Timer bidWait;
  private final AtomicLong queued = new AtomicLong();
  private final DistributionSummary feedEvents;
  private final Counter restarts;
  private final DistributionSummary snapshots;

  public MarketMeters(MeterRegistry registry, String model) {
    clear =
        Timer.builder("surplus.market.epoch.clear")
            .description(
                "time to clear one epoch, on the clearing thread (the market takes commands meanwhile)")
            .tag("market", model)
            .publishPercentiles(0.5, 0.99)
            .register(registry);
    durable =
        Timer.builder("surplus.market.epoch.durable")
            .description(
                "from an epoch's cut to its result written and published: the copy, the clearing,"
                    + " the wait for the clearing thread and both journal writes")
            .tag("market", model)
            .publishPercentiles(0.5, 0.99)
            .register(registry);
    searched =
        DistributionSummary.builder("surplus.market.epoch.searched")
            .description("bids searched per epoch (the rest were skipped as unchanged)")
            .tag("market", model)
            .register(registry);
    leases =
        DistributionSummary.builder("surplus.market.epoch.leases")
            .description("leases made per epoch")
            .tag("market", model)
            .register(registry);
    repairFills =
        DistributionSummary.builder("surplus.market.epoch.repair.fills")
            .description("fills the engine's repair pass added per epoch (0 with the pass off)")
            .tag("market", model)
            .register(registry);
    Gauge.builder("surplus.market.open.bids", openBids, AtomicLong::get)
        .description("open bids in the book after the latest epoch")
        .tag("market", model)
        .register(registry);
    batchBids =
        DistributionSummary.builder("surplus.market.gate.batch.bids")
            .description("bids per journal write of the market's gate")
            .tag("market", model)
            .register(registry);
    batchWrite =
        Timer.builder("surplus.market.gate.batch.write")
            .description("from a batch sent to the market until its journal write is done")
            .tag("market", model)
            .publishPercentiles(0.5, 0.99)
            .register(registry);
    bidWait =
        Timer.builder("surplus.market.gate.bid.wait")
            .description("per journal write, how long its oldest bid waited in the gate")
            .tag("market", model)
            .publishPercentiles(0.5, 0.99)
            .register(registry);
    Gauge.builder("surplus.market.gate.queue", queued, AtomicLong::get)
        .description("bids waiting in the gate for the next journal write")
        .tag("market", model)
        .register(registry);
    feedEvents =
        DistributionSummary.builder("surplus.market.feed.events")
            .description("capacity feed events per journal write of the market")
            .tag("market", model)
            .register(registry);
    restarts =
        Counter.builder("surplus.market.restarts")
            .description("restarts of the market after a failure")
            .tag("market", model)
            .register(registry);
    snapshots =
        DistributionSummary.builder("surplus.market.snapshot.bids")
            .description("open bids per snapshot taken (its count is the number of snapshots)")
            .tag("market", model)
            .register(registry);
  }

  void epoch(EpochResult r, long nanos) {
    clear.record(Duration.ofNanos(nanos));
    searched.record(r.searched());
    leases.record(r.leases().size());
    repairFills.record(r.repairFills());
    openBids.set(r.openBids());
  }

  void durable(long millis) {
    durable.record(Math.max(0, millis), TimeUnit.MILLISECONDS);
  }

  void batchSent(int bids, long waitedNanos) {
    batchBids.record(bids);
    bidWait.record(Duration.ofNanos(waitedNanos));
  }

  void batchWritten(long nanos) {
    batchWrite.record(Duration.ofNanos(nanos));
  }

  void queued(int bids) {
    queued.set(bids);
  }

  void feedWritten(int events) {
    feedEvents.record(events);
  }

  void snapshot(int openBids) {
    snapshots.record(openBids);
  }

  void restarted() {
    restarts.increment();
  }
}
