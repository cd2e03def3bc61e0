package io.surplus.feed.report;

import io.surplus.engine.BidSpec;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.RevocationKind;
import io.surplus.engine.SlotClock;
import io.surplus.engine.WindowSpec;
import io.surplus.engine.book.Cut;
import io.surplus.engine.book.EpochResult;
import io.surplus.engine.book.OrderBook;
import io.surplus.engine.book.RevocationPlan;
import io.surplus.feed.protocol.WindowExtended;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import io.surplus.feed.sim.DemandBid;
import io.surplus.feed.sim.DemandGenerator.Arrival;
import io.surplus.feed.sim.PoolSpec;
import io.surplus.feed.sim.SimEvent;
import io.surplus.feed.sim.SimEvent.Cause;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replays a simulated fleet's feed and its outside demand through the real clearing engine, in
 * process and in simulated time, and books the outcome in a {@link Ledger}. One {@link OrderBook}
 * per GPU model, as the marketplace keeps one market per model; pools of a model share its book.
 *
 * <p>The mapping is the marketplace's: instants become slots on the {@link SlotClock} with window
 * and bid spans rounded inward (a start rounds up and never before the current slot, an end rounds
 * down), a window shorter than a slot after rounding is refused; a revocation by nodes keeps {@code
 * offered - nodes} nodes from its instant, where {@code offered} is what the window offers in the
 * slot the revocation starts in; one by end keeps none; prices stay micro-dollars. Bids go in as
 * the API would make them: any region, no minimum notice, no expiry, no requeue.
 *
 * <p>Order: epochs clear every {@code epochSeconds} from the span's start. Before each, the feed
 * events and then the bids that arrived since the last one (up to and including its instant) go in,
 * each at its own simulated instant; feed events and bids do not meet before an epoch, so their
 * order between two epochs changes nothing. Deterministic: the same inputs give the same ledger.
 */
public final class EarningsReplay {

  /** Epochs clear this often by default: once per 15-minute slot, on its boundary. */
  public static final int DEFAULT_EPOCH_SECONDS = 900;

  /** What happened besides the ledger: counts of what went in and what the engine refused. */
  public static final class Counts {
    public long bidsArrived;
    public long bidsPlaced;
    public long bidsFilled;
    public long leases;
    public long epochs;
    public long windowsOffered;
    public long extensionsApplied;
    public long revocationsApplied;

    /** Bids, windows, extensions and revocations the engine or the slot mapping refused, by why. */
    public final Map<String, Long> refused = new LinkedHashMap<>();

    void refuse(String what) {
      refused.merge(what, 1L, Long::sum);
    }
  }

  /** The ledger and the counts of one replay. */
  public record Outcome(Ledger ledger, Counts counts) {}

  private final SlotClock clock;
  private final List<PoolSpec> fleet;
  private final long startMillis;
  private final long endMillis;
  private final long epochMillis;
  private final Ledger ledger;
  private final Counts counts = new Counts();
  private final Map<String, OrderBook> books = new HashMap<>();
  private final Map<String, Integer> poolIndex = new HashMap<>();
  private final List<String> regions = new ArrayList<>();
  private final Map<String, Win> byFeedId = new HashMap<>();
  private final Map<Long, Win> byEngineId = new HashMap<>();
  private final Map<String, Map<Long, Sold>> leases = new HashMap<>();
  private final Set<Long> filledBids = new HashSet<>();
  private long nextWindowId;
  private long nextBidId;

  private EarningsReplay(
      List<PoolSpec> fleet, Instant start, int days, SlotClock clock, int epochSeconds) {
    if (epochSeconds <= 0) {
      throw new IllegalArgumentException("epochSeconds must be > 0: epochSeconds=" + epochSeconds);
    }
    this.clock = clock;
    this.fleet = List.copyOf(fleet);
    this.startMillis = start.toEpochMilli();
    this.endMillis = startMillis + days * 86_400_000L;
    this.epochMillis = epochSeconds * 1000L;
    this.ledger =
        new Ledger(fleet.size(), clock.slotAtOrBefore(startMillis), days, clock.slotSeconds());
    for (int i = 0; i < fleet.size(); i++) {
      PoolSpec p = fleet.get(i);
      poolIndex.put(p.name(), i);
      books.computeIfAbsent(
          p.gpuModel().name(), m -> new OrderBook(clock, PricingRule.PAY_AS_CLEAR, 4096));
      leases.computeIfAbsent(p.gpuModel().name(), m -> new HashMap<>());
      if (!regions.contains(p.region())) {
        regions.add(p.region());
      }
    }
  }

  /**
   * Replays {@code events} (ordered by instant, as {@code TrainingFleetSim} gives them) and {@code
   * demand} (ordered by arrival) of {@code fleet} over {@code days} from {@code start}, a UTC
   * midnight, clearing every {@code epochSeconds}.
   */
  public static Outcome run(
      List<PoolSpec> fleet,
      Instant start,
      int days,
      List<SimEvent> events,
      Iterator<Arrival> demand,
      SlotClock clock,
      int epochSeconds) {
    EarningsReplay r = new EarningsReplay(fleet, start, days, clock, epochSeconds);
    r.replay(events, demand);
    return new Outcome(r.ledger, r.counts);
  }

  // ---------------------------------------------------------------- the loop

  private void replay(List<SimEvent> events, Iterator<Arrival> demand) {
    int e = 0;
    Arrival next = demand.hasNext() ? demand.next() : null;
    for (long epoch = startMillis; epoch < endMillis; epoch += epochMillis) {
      while (e < events.size() && events.get(e).at().toEpochMilli() <= epoch) {
        apply(events.get(e++));
      }
      while (next != null && next.at().toEpochMilli() <= epoch) {
        place(next.bid(), next.at().toEpochMilli());
        next = demand.hasNext() ? demand.next() : null;
      }
      for (Map.Entry<String, OrderBook> b : books.entrySet()) {
        cleared(b.getKey(), b.getValue().clear(epoch));
      }
      counts.epochs++;
    }
    book();
  }

  /** Puts every window and lease, as they finally stand, in the ledger. */
  private void book() {
    for (Win w : byEngineId.values()) {
      ledger.offered(w.pool, w.cause, w.startSlot, w.cap);
    }
    for (Map<Long, Sold> market : leases.values()) {
      for (Sold s : market.values()) {
        Win w = byEngineId.get(s.lease.windowId());
        ledger.sold(
            w.pool,
            w.cause,
            s.lease.startSlot(),
            s.end,
            s.lease.nodes(),
            s.lease.gpusPerNode(),
            s.lease.price());
      }
    }
  }

  private void cleared(String model, EpochResult r) {
    Map<Long, Sold> market = leases.get(model);
    for (Lease l : r.leases()) {
      market.put(l.id(), new Sold(l, l.endSlot()));
      counts.leases++;
      if (filledBids.add(l.bidId())) {
        counts.bidsFilled++;
      }
    }
  }

  // ---------------------------------------------------------------- demand

  private void place(DemandBid b, long now) {
    counts.bidsArrived++;
    OrderBook book = books.get(b.gpuModel().name());
    if (book == null) {
      counts.refuse("bid for a GPU model the fleet lacks");
      return;
    }
    int[] span = span(b.earliestStart(), b.latestEnd(), now);
    if (span == null) {
      counts.refuse("bid ends within the current slot");
      return;
    }
    int start = span[0];
    int end = span[1];
    int slots = clock.slotsFor(Duration.ofMinutes(b.durationMinutes()));
    if (start + slots > end) {
      counts.refuse("bid no longer fits its span");
      return;
    }
    BidSpec spec = b.toSpec(++nextBidId, 1, slots, start, end);
    ResultCode rc = book.place(spec, now);
    if (rc == ResultCode.OK) {
      counts.bidsPlaced++;
    } else {
      counts.refuse("bid " + rc);
    }
  }

  // ---------------------------------------------------------------- the feed

  private void apply(SimEvent e) {
    long now = e.at().toEpochMilli();
    if (e.event() instanceof WindowOpened o) {
      open(e.provider(), e.cause(), o, now);
    } else if (e.event() instanceof WindowExtended x) {
      extend(byFeedId.get(e.provider() + "/" + x.windowId()), x, now);
    } else if (e.event() instanceof WindowRevoked v) {
      revoke(byFeedId.get(e.provider() + "/" + v.windowId()), v, now);
    }
  }

  private void open(String provider, Cause cause, WindowOpened o, long now) {
    Integer pool = poolIndex.get(o.pool());
    if (pool == null) {
      counts.refuse("window of a pool the fleet lacks");
      return;
    }
    int[] span = span(o.start(), o.end(), now);
    if (span == null) {
      counts.refuse("window ends within the current slot");
      return;
    }
    int start = span[0];
    int end = span[1];
    if (end <= start) {
      counts.refuse("window shorter than a slot");
      return;
    }
    WindowSpec spec =
        new WindowSpec(
            ++nextWindowId,
            pool + 1L,
            pool,
            regions.indexOf(o.region()),
            o.nodes(),
            o.gpusPerNode(),
            start,
            end,
            o.reservePrice(),
            o.noticeSeconds(),
            o.confidencePpm().orElse(1_000_000));
    OrderBook book = books.get(o.gpuModel().name());
    ResultCode rc = book.offer(spec, now);
    if (rc != ResultCode.OK) {
      counts.refuse("window " + rc);
      return;
    }
    Win w = new Win(spec.id(), pool, cause, o.gpuModel().name(), book, start, o.noticeSeconds());
    w.read();
    byFeedId.put(provider + "/" + o.windowId(), w);
    byEngineId.put(w.id, w);
    counts.windowsOffered++;
  }

  private void extend(Win w, WindowExtended x, long now) {
    if (w == null) {
      counts.refuse("extension of a window the market lacks");
      return;
    }
    ResultCode rc = w.book.extend(w.id, clock.slotAtOrBefore(x.end().toEpochMilli()), now);
    if (rc != ResultCode.OK) {
      counts.refuse("extension " + rc);
      return;
    }
    w.read();
    counts.extensionsApplied++;
  }

  private void revoke(Win w, WindowRevoked v, long now) {
    if (w == null) {
      counts.refuse("revocation of a window the market lacks");
      return;
    }
    long at = v.at().toEpochMilli();
    int slot = Math.max(clock.slotAtOrBefore(Math.max(at, now)), w.startSlot);
    int keep = v.nodes().isPresent() ? w.book.offeredNodes(w.id, slot) - v.nodes().getAsInt() : 0;
    if (keep < 0) {
      counts.refuse("revocation " + ResultCode.INVALID_REVOCATION);
      return;
    }
    RevocationPlan plan = w.book.revoke(w.id, keep, at, v.kind(), now);
    if (plan.code() != ResultCode.OK) {
      counts.refuse("revocation " + plan.code());
      return;
    }
    counts.revocationsApplied++;
    w.read();
    Map<Long, Lease> standing = new HashMap<>();
    for (Lease l : w.book.leasesOf(w.id)) {
      standing.put(l.id(), l);
    }
    Map<Long, Sold> market = leases.get(w.model);
    for (Cut c : plan.cuts()) {
      Sold s = market.get(c.lease().id());
      Lease after = standing.get(c.lease().id());
      int newEnd = after == null ? s.lease.startSlot() : after.endSlot();
      ledger.revoked(w.pool, c.kind(), newEnd, s.end, s.lease.nodes());
      s.end = newEnd;
      long held = clock.seconds(newEnd - s.lease.startSlot());
      ledger.preempted(
          w.pool,
          c.kind(),
          clock.slotAtOrBefore(c.preemptAtMillis()),
          s.lease.nodes(),
          s.lease.gpusPerNode(),
          s.lease.price(),
          (c.preemptAtMillis() - now) / 1000,
          w.notice,
          c.noticeShortfallSeconds(),
          c.kind() == RevocationKind.EMERGENCY ? Math.min(c.noticeShortfallSeconds(), held) : 0);
    }
  }

  /**
   * {@code [start, end)} on the slot grid as the marketplace rounds a span (inward: the start up,
   * and never before the current slot; the end down), as {@code {startSlot, endSlot}}, possibly
   * empty; null when the end falls within the current slot.
   */
  private int[] span(Instant start, Instant end, long now) {
    int first = clock.slotAtOrAfter(now);
    long endMillis = end.toEpochMilli();
    if (endMillis < clock.startMillis(first + 1)) {
      return null;
    }
    long from = Math.min(Math.max(start.toEpochMilli(), now), endMillis);
    return new int[] {Math.max(clock.slotAtOrAfter(from), first), clock.slotAtOrBefore(endMillis)};
  }

  /** A window as the engine keeps it: its offered nodes per slot, read after every change. */
  private static final class Win {
    final long id;
    final int pool;
    final Cause cause;
    final String model;
    final OrderBook book;
    final int startSlot;
    final int notice;
    int[] cap = new int[0];

    Win(long id, int pool, Cause cause, String model, OrderBook book, int startSlot, int notice) {
      this.id = id;
      this.pool = pool;
      this.cause = cause;
      this.model = model;
      this.book = book;
      this.startSlot = startSlot;
      this.notice = notice;
    }

    void read() {
      int end = book.windowEnd(id);
      cap = new int[end - startSlot];
      for (int i = 0; i < cap.length; i++) {
        cap[i] = book.offeredNodes(id, startSlot + i);
      }
    }
  }

  /** A lease and where it ends now, after any cuts. */
  private static final class Sold {
    final Lease lease;
    int end;

    Sold(Lease lease, int end) {
      this.lease = lease;
      this.end = end;
    }
  }
}
