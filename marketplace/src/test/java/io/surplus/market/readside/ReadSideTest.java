package io.surplus.market.readside;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.surplus.engine.BidSpec;
import io.surplus.engine.GpuModel;
import io.surplus.engine.Lease;
import io.surplus.engine.PricingRule;
import io.surplus.engine.ResultCode;
import io.surplus.engine.SlotClock;
import io.surplus.engine.TimeInForce;
import io.surplus.engine.WindowSpec;
import io.surplus.market.cassandra.TestCassandra;
import io.surplus.market.markets.Market;
import io.surplus.market.readside.ReadSide.Candle;
import io.surplus.market.readside.ReadSide.EpochRecord;
import io.surplus.market.readside.ReadSide.LeaseRow;
import io.surplus.market.readside.ReadSide.Page;
import io.surplus.market.readside.ReadSide.Trade;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The read side against the real Cassandra node: a market clears three epochs, the projection
 * (running under ShardedDaemonProcess on a one-node cluster) writes them, and every query returns
 * exactly the rows worked out by hand below. Then the same events are handled again, and nothing
 * changes.
 *
 * <p>The scenario, on 15-minute slots from slot S (about an hour after the epochs):
 *
 * <ul>
 *   <li>Windows: W1 4 nodes x 8 GPUs, [S, S+16), reserve 1.00; W2 2 nodes x 8, [S, S+16), reserve
 *       2.50.
 *   <li>Epoch 1 at base+5s. Bids: #1 (A) 2 nodes, 4 slots in [S, S+8), limit 3.00; #2 (A) 2 nodes,
 *       8 slots in [S, S+16), 2.00; #3 (B) 4 nodes, 4 slots in [S, S+4), 1.50; #6 (A) 1 node, limit
 *       0.50, expiring at base+10s. #1 takes W2 (best fit), #2 takes 2 nodes of W1, #3 finds only 2
 *       nodes left (OUTBID), #6 is below every reserve (BELOW_RESERVE). Price 2.00 (bid #2), so
 *       lease 1 pays max(2.00, 2.50) = 2.50: 2x8 GPUs x 1 h = 16 GPU-h = 57,600 GPU-s, $40.00;
 *       lease 2 pays 2.00 for 2x8 x 2 h = 115,200 GPU-s, $64.00.
 *   <li>Epoch 2 at base+20s. IOC bids #4 (B) 1 node, 4 slots, 1.20 and #5 (B) 4 nodes, 4 slots,
 *       1.10. #3 is not searched again (no new capacity) and stays OUTBID; #4 fills W1 (lease 3,
 *       1.20, 28,800 GPU-s, $9.60); #5 finds no 4 nodes (NO_CAPACITY_IN_WINDOW) and leaves; #6
 *       expired.
 *   <li>Epoch 3 at base+70s, after W3 (4 nodes x 8, [S, S+8), reserve 1.00) is offered: #3 fills W3
 *       (lease 4, 1.50, 115,200 GPU-s, $48.00).
 * </ul>
 */
class ReadSideTest {

  static final SlotClock CLOCK = SlotClock.DEFAULT;
  static final Duration WAIT = Duration.ofSeconds(60);
  static final long POLL_MILLIS = 200;

  static ActorTestKit kit;
  static ReadSide readSide;
  static String keyspace;

  @BeforeAll
  static void startReadSide() throws Exception {
    TestCassandra.node();
    Config config =
        ConfigFactory.parseString(
                "pekko.actor.provider = cluster\n"
                    + "pekko.remote.artery.canonical.hostname = 127.0.0.1\n"
                    + "pekko.remote.artery.canonical.port = 0\n")
            .withFallback(ConfigFactory.load());
    kit = ActorTestKit.create("read-side-test", config);
    Cluster cluster = Cluster.get(kit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    keyspace = ReadSideSettings.from(config).keyspace();
    readSide = get(ReadSide.start(kit.system(), CLOCK));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** The market of one test, with its two bidders; fresh names so runs never share rows. */
  record Scenario(
      String market, long accountA, long accountB, long base, int s, List<Long> lagMillis) {}

  @Test
  void shouldProjectEveryEpochIntoLeasesTradesCandlesAndEpochRecordsExactly() throws Exception {
    Scenario sc = runScenario();
    Instant base = Instant.ofEpochMilli(sc.base());
    Instant at1 = base.plusSeconds(5);
    Instant at2 = base.plusSeconds(20);
    Instant at3 = base.plusSeconds(70);
    Instant start = CLOCK.start(sc.s());
    LeaseRow lease1 =
        new LeaseRow(
            sc.market(),
            1,
            1,
            sc.accountA(),
            2,
            2,
            8,
            start,
            CLOCK.start(sc.s() + 4),
            2_500_000,
            3_000_000,
            1,
            at1,
            null,
            null,
            0);
    LeaseRow lease2 =
        new LeaseRow(
            sc.market(),
            2,
            2,
            sc.accountA(),
            1,
            2,
            8,
            start,
            CLOCK.start(sc.s() + 8),
            2_000_000,
            2_000_000,
            1,
            at1,
            null,
            null,
            0);
    LeaseRow lease3 =
        new LeaseRow(
            sc.market(),
            3,
            4,
            sc.accountB(),
            1,
            1,
            8,
            start,
            CLOCK.start(sc.s() + 4),
            1_200_000,
            1_200_000,
            2,
            at2,
            null,
            null,
            0);
    LeaseRow lease4 =
        new LeaseRow(
            sc.market(),
            4,
            3,
            sc.accountB(),
            3,
            4,
            8,
            start,
            CLOCK.start(sc.s() + 4),
            1_500_000,
            1_500_000,
            3,
            at3,
            null,
            null,
            0);

    // leases by account, newest first
    assertEquals(List.of(lease2, lease1), get(readSide.leases(sc.accountA(), null, 50)).items());
    assertEquals(List.of(lease4, lease3), allLeases(sc.accountB(), 1));
    assertEquals(57_600, lease1.gpuSeconds());

    // lease by id
    assertEquals(Optional.of(lease3), get(readSide.lease(sc.market(), 3)));
    assertEquals(Optional.empty(), get(readSide.lease(sc.market(), 5)));

    // the anonymous tape of the latest day: newest epoch first, lease id ascending within one
    Trade t1 = new Trade(at1, 1, 1, 2_500_000, 2, 8, 57_600, start, CLOCK.start(sc.s() + 4));
    Trade t2 = new Trade(at1, 2, 1, 2_000_000, 2, 8, 115_200, start, CLOCK.start(sc.s() + 8));
    Trade t3 = new Trade(at2, 3, 2, 1_200_000, 1, 8, 28_800, start, CLOCK.start(sc.s() + 4));
    Trade t4 = new Trade(at3, 4, 3, 1_500_000, 4, 8, 115_200, start, CLOCK.start(sc.s() + 4));
    assertEquals(
        List.of(t4, t3, t1, t2), get(readSide.trades(sc.market(), null, null, 500)).items());
    Page<Trade> first = get(readSide.trades(sc.market(), null, null, 3));
    assertEquals(List.of(t4, t3, t1), first.items());
    assertNotNull(first.next());
    Page<Trade> second = get(readSide.trades(sc.market(), null, first.next(), 3));
    assertEquals(List.of(t2), second.items());
    LocalDate day = LocalDate.ofInstant(base, ZoneOffset.UTC);
    assertEquals(List.of(t4, t3, t1, t2), get(readSide.trades(sc.market(), day, null, 10)).items());
    assertEquals(List.of(), get(readSide.trades(sc.market(), day.minusDays(1), null, 10)).items());

    // candles: epochs 1 and 2 share the first minute, epoch 3 is in the next
    Instant minute1 = base.plusSeconds(60);
    Instant to = base.plusSeconds(3600);
    assertEquals(
        List.of(
            new Candle(
                CandleInterval.ONE_MINUTE,
                base,
                2_000_000,
                2_000_000,
                1_200_000,
                1_200_000,
                201_600,
                113_600_000,
                3),
            new Candle(
                CandleInterval.ONE_MINUTE,
                minute1,
                1_500_000,
                1_500_000,
                1_500_000,
                1_500_000,
                115_200,
                48_000_000,
                1)),
        get(readSide.candles(sc.market(), CandleInterval.ONE_MINUTE, base, to)));
    assertEquals(
        List.of(
            new Candle(
                CandleInterval.FIFTEEN_MINUTES,
                base,
                2_000_000,
                2_000_000,
                1_200_000,
                1_500_000,
                316_800,
                161_600_000,
                4)),
        get(readSide.candles(sc.market(), CandleInterval.FIFTEEN_MINUTES, base, to)));
    assertEquals(
        List.of(
            new Candle(
                CandleInterval.ONE_HOUR,
                base,
                2_000_000,
                2_000_000,
                1_200_000,
                1_500_000,
                316_800,
                161_600_000,
                4)),
        get(readSide.candles(sc.market(), CandleInterval.ONE_HOUR, base.minusSeconds(7200), to)));
    // a range that starts mid-bucket includes that bucket; one that ends before it does not
    assertEquals(
        1,
        get(readSide.candles(sc.market(), CandleInterval.ONE_MINUTE, minute1.plusSeconds(30), to))
            .size());
    assertEquals(
        List.of(),
        get(
            readSide.candles(
                sc.market(), CandleInterval.ONE_MINUTE, base.minusSeconds(600), base)));

    // the public epoch records
    assertEquals(
        Optional.of(
            new EpochRecord(
                sc.market(),
                1,
                at1,
                2_000_000,
                true,
                2_000_000,
                2,
                4,
                172_800,
                104_000_000,
                2,
                Map.of("OUTBID", 1, "BELOW_RESERVE", 1),
                0,
                0)),
        get(readSide.epoch(sc.market(), 1)));
    assertEquals(
        Optional.of(
            new EpochRecord(
                sc.market(),
                2,
                at2,
                1_200_000,
                true,
                1_200_000,
                1,
                1,
                28_800,
                9_600_000,
                1,
                Map.of("OUTBID", 1, "NO_CAPACITY_IN_WINDOW", 1),
                1,
                1)),
        get(readSide.epoch(sc.market(), 2)));
    assertEquals(
        Optional.of(
            new EpochRecord(
                sc.market(),
                3,
                at3,
                1_500_000,
                true,
                1_500_000,
                1,
                4,
                115_200,
                48_000_000,
                0,
                Map.of(),
                0,
                0)),
        get(readSide.epoch(sc.market(), 3)));
    assertEquals(Optional.empty(), get(readSide.epoch(sc.market(), 4)));
    System.out.println("read-side lag from epoch reply to visible row, ms: " + sc.lagMillis());
  }

  @Test
  void shouldLeaveEveryRowUnchangedWhenTheSameEventsAreHandledAgain() throws Exception {
    Scenario sc = runScenario();
    Instant base = Instant.ofEpochMilli(sc.base());
    Supplier<List<Object>> everything =
        () ->
            List.of(
                get(readSide.leases(sc.accountA(), null, 500)),
                get(readSide.leases(sc.accountB(), null, 500)),
                get(readSide.trades(sc.market(), null, null, 500)),
                get(readSide.lease(sc.market(), 1)),
                get(readSide.lease(sc.market(), 4)),
                get(
                    readSide.candles(
                        sc.market(), CandleInterval.ONE_MINUTE, base, base.plusSeconds(3600))),
                get(
                    readSide.candles(
                        sc.market(), CandleInterval.FIFTEEN_MINUTES, base, base.plusSeconds(3600))),
                get(
                    readSide.candles(
                        sc.market(), CandleInterval.ONE_HOUR, base, base.plusSeconds(3600))),
                get(readSide.epoch(sc.market(), 1)),
                get(readSide.epoch(sc.market(), 2)),
                get(readSide.epoch(sc.market(), 3)));
    List<Object> before = everything.get();

    CassandraReadJournal journal =
        PersistenceQuery.get(kit.system())
            .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    List<EventEnvelope<Market.Event>> epochs = new ArrayList<>();
    for (org.apache.pekko.persistence.query.EventEnvelope e :
        get(
            journal
                .currentEventsByPersistenceId("Market|" + sc.market(), 0, Long.MAX_VALUE)
                .runWith(Sink.seq(), kit.system()))) {
      if (e.event() instanceof Market.EpochCleared) {
        epochs.add(
            EventEnvelope.create(
                e.offset(),
                e.persistenceId(),
                e.sequenceNr(),
                (Market.Event) e.event(),
                e.timestamp()));
      }
    }
    assertEquals(3, epochs.size());
    // a fresh handler, as after a restart from an older offset: all three again, twice, then the
    // oldest once more after the newest
    ReadSideHandler handler = newHandler();
    get(handler.start());
    for (int round = 0; round < 2; round++) {
      for (EventEnvelope<Market.Event> e : epochs) {
        get(handler.process(e));
      }
    }
    get(handler.process(epochs.get(0)));
    assertEquals(before, everything.get());
  }

  /**
   * An epoch of 5,000 leases on one provider's window (a full book's large epochs make thousands)
   * goes into the statements' tables whole: the per-lease owner reads and writes run a bounded
   * number at a time. Fired all at once they took every request slot of the driver's connection,
   * and the projection failed and retried the same epoch for as long as the service ran.
   */
  @Test
  void shouldProjectAnEpochOfThousandsOfLeasesIntoTheStatements() throws Exception {
    String market = "RSX-" + System.nanoTime();
    long provider = System.nanoTime() & 0x3fff_ffffL;
    long at = Instant.now().toEpochMilli();
    int s = CLOCK.slotAtOrAfter(at);
    ReadSideHandler handler = newHandler();
    get(handler.start());
    WindowSpec w = new WindowSpec(1, provider, 7, 0, 16_384, 8, s, s + 8, 1_000_000, 3600, 0);
    get(
        handler.process(
            EventEnvelope.<Market.Event>create(
                org.apache.pekko.persistence.query.Offset.noOffset(),
                "Market|" + market,
                1,
                new Market.WindowOffered(w, "pool-big", at),
                at)));
    long[] ids = new long[5_000];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i + 1;
    }
    get(handler.process(envelope(market, epochAt(at, 1, 42, ids))));
    CqlSession session =
        get(
            CassandraSessionRegistry.get(kit.system())
                .sessionFor(ReadSideSettings.DEFAULT_SESSION_CONFIG_PATH)
                .underlying());
    long rows =
        session
            .execute(
                "SELECT count(*) FROM "
                    + keyspace
                    + ".provider_leases WHERE provider = ? AND month = ? AND market = ?",
                provider,
                ReadSideHandler.MONTH.format(CLOCK.start(s)),
                market)
            .one()
            .getLong(0);
    assertEquals(ids.length, rows);
  }

  @Test
  void shouldWalkBackThroughMonthPartitionsForAnAccountsLeases() throws Exception {
    String market = "RSM-" + System.nanoTime();
    long account = System.nanoTime();
    ZonedDateTime thisMonth =
        ZonedDateTime.now(ZoneOffset.UTC)
            .withDayOfMonth(1)
            .toLocalDate()
            .atStartOfDay(ZoneOffset.UTC);
    long now = thisMonth.plusHours(1).toInstant().toEpochMilli();
    long twoMonthsAgo = thisMonth.minusMonths(2).plusDays(3).toInstant().toEpochMilli();
    long twelveMonthsAgo = thisMonth.minusMonths(12).plusDays(3).toInstant().toEpochMilli();
    ReadSideHandler handler = newHandler();
    get(handler.start());
    // epochs out of time order on purpose: the walk orders by month, then by time
    get(handler.process(envelope(market, epochAt(twelveMonthsAgo, 1, account, 10))));
    get(handler.process(envelope(market, epochAt(twoMonthsAgo, 2, account, 20, 21))));
    get(handler.process(envelope(market, epochAt(now, 3, account, 30))));

    List<Long> ids = new ArrayList<>();
    int pages = 0;
    String cursor = null;
    do {
      Page<LeaseRow> page = get(readSide.leases(account, cursor, 1));
      assertTrue(page.items().size() <= 1);
      page.items().forEach(l -> ids.add(l.leaseId()));
      cursor = page.next();
      pages++;
    } while (cursor != null && pages < 10);
    assertNull(cursor);
    // the lease of twelve months ago lies outside the 12-month walk
    assertEquals(List.of(30L, 21L, 20L), ids);
    assertEquals(
        List.of(30L, 21L, 20L),
        get(readSide.leases(account, null, 500)).items().stream().map(LeaseRow::leaseId).toList());
  }

  @Test
  void shouldRejectBadQueryParametersNamingThem() {
    IllegalArgumentException span =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                readSide.candles(
                    "X",
                    CandleInterval.ONE_MINUTE,
                    Instant.parse("2026-11-01T00:00:00Z"),
                    Instant.parse("2026-11-02T00:00:01Z")));
    assertTrue(span.getMessage().startsWith("to "), span.getMessage());
    // exactly 1,440 one-minute candles is allowed, as are 60 days of hourly ones
    assertNotNull(
        readSide.candles(
            "X",
            CandleInterval.ONE_MINUTE,
            Instant.parse("2026-11-01T00:00:00Z"),
            Instant.parse("2026-11-02T00:00:00Z")));
    assertNotNull(
        readSide.candles(
            "X",
            CandleInterval.ONE_HOUR,
            Instant.parse("2026-09-01T00:00:00Z"),
            Instant.parse("2026-10-31T00:00:00Z")));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> readSide.candles("X", CandleInterval.ONE_HOUR, Instant.EPOCH, Instant.EPOCH))
            .getMessage()
            .startsWith("to must be after from"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> CandleInterval.parse("5m"))
            .getMessage()
            .contains("interval=5m"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> readSide.leases(1, null, 0))
            .getMessage()
            .contains("limit=0"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> readSide.leases(1, "not a cursor!", 10))
            .getMessage()
            .startsWith("cursor"));
    String tradesCursor = readSide.cursors().encode("trades:X", "2026-11-02", null);
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> readSide.leases(1, tradesCursor, 10))
            .getMessage()
            .startsWith("cursor"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> readSide.trades("X", LocalDate.parse("2026-11-03"), tradesCursor, 10))
            .getMessage()
            .contains("day=2026-11-03"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> readSide.epoch("X", 0))
            .getMessage()
            .contains("epoch=0"));
  }

  @Test
  void shouldRefuseEveryCursorItDidNotMakeForTheSameQuery() throws Exception {
    PageCursor.Codec cursors = readSide.cursors();
    String mine = cursors.encode("leases:1", YearMonth.now(ZoneOffset.UTC).toString(), null);
    assertNotNull(get(readSide.leases(1, mine, 10)));
    // another account's cursor, a trades cursor, a forged byte, another secret's cursor
    String forged =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(flipLast(Base64.getUrlDecoder().decode(mine)));
    String otherSecret =
        new PageCursor.Codec("another secret, 32 bytes long...".getBytes(StandardCharsets.UTF_8))
            .encode("leases:1", YearMonth.now(ZoneOffset.UTC).toString(), null);
    for (String bad :
        List.of(
            cursors.encode("leases:2", YearMonth.now(ZoneOffset.UTC).toString(), null),
            cursors.encode("trades:X", "2026-11-02", null),
            forged,
            otherSecret,
            "A".repeat(PageCursor.MAX_CURSOR_CHARS + 1))) {
      assertTrue(
          assertThrows(IllegalArgumentException.class, () -> readSide.leases(1, bad, 10))
              .getMessage()
              .startsWith("cursor"),
          bad);
    }
    // a signed cursor still cannot name a month the walk would never reach
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> readSide.leases(1, cursors.encode("leases:1", "9999-12", null), 10))
            .getMessage()
            .startsWith("cursor names a month after"));
    // one older than the walk keeps is the (empty) last page, without a query
    Page<LeaseRow> old =
        get(
            readSide.leases(
                1,
                cursors.encode(
                    "leases:1", YearMonth.now(ZoneOffset.UTC).minusMonths(40).toString(), null),
                10));
    assertEquals(List.of(), old.items());
    assertNull(old.next());
    // candles far outside any market's life name their parameter
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    readSide.candles(
                        "X",
                        CandleInterval.ONE_HOUR,
                        Instant.parse("-1000000000-01-01T00:00:00Z"),
                        Instant.parse("2026-11-01T00:00:00Z")))
            .getMessage()
            .startsWith("from"));
  }

  private static byte[] flipLast(byte[] bytes) {
    bytes[bytes.length - 1] ^= 1;
    return bytes;
  }

  // ------------------------------------------------------------------ the scenario

  /** Runs the scenario of the class comment and waits until the read side shows each epoch. */
  static Scenario runScenario() throws Exception {
    String market = "RS-" + System.nanoTime();
    long accountA = System.nanoTime();
    long accountB = accountA + 1;
    // the start of the current hour: three epochs fit in it, and it lies in today and this month
    long base = Math.floorDiv(System.currentTimeMillis(), 3_600_000L) * 3_600_000L;
    int s = CLOCK.slotAtOrAfter(base + 70_000) + 4;
    List<Long> lag = new ArrayList<>();
    ActorRef<Market.Command> m =
        kit.spawn(Market.create(new GpuModel(market), CLOCK, PricingRule.PAY_AS_CLEAR));
    offer(m, new WindowSpec(1, 1, 0, 0, 4, 8, s, s + 16, 1_000_000, 300, 950_000), base);
    offer(m, new WindowSpec(2, 1, 1, 0, 2, 8, s, s + 16, 2_500_000, 300, 950_000), base);
    place(m, BidSpec.gtc(1, accountA, 2, 2, 4, s, s + 8, 3_000_000), base);
    place(m, BidSpec.gtc(2, accountA, 2, 2, 8, s, s + 16, 2_000_000), base);
    place(m, BidSpec.gtc(3, accountB, 4, 4, 4, s, s + 4, 1_500_000), base);
    place(
        m,
        BidSpec.gtc(6, accountA, 1, 1, 4, s, s + 16, 500_000)
            .withTimeInForce(TimeInForce.GTC, base + 10_000),
        base);
    clear(m, market, 1, base + 5_000, 2, lag);
    place(
        m,
        BidSpec.gtc(4, accountB, 1, 1, 4, s, s + 8, 1_200_000)
            .withTimeInForce(TimeInForce.IOC, BidSpec.NO_EXPIRY),
        base + 10_000);
    place(
        m,
        BidSpec.gtc(5, accountB, 4, 4, 4, s, s + 4, 1_100_000)
            .withTimeInForce(TimeInForce.IOC, BidSpec.NO_EXPIRY),
        base + 10_000);
    clear(m, market, 2, base + 20_000, 1, lag);
    offer(m, new WindowSpec(3, 1, 2, 0, 4, 8, s, s + 8, 1_000_000, 300, 950_000), base + 65_000);
    clear(m, market, 3, base + 70_000, 1, lag);
    // the candles are written last for an epoch: wait for the hour's candle to hold all four fills
    Instant hour = Instant.ofEpochMilli(base);
    awaitTrue(
        () ->
            get(readSide.candles(market, CandleInterval.ONE_HOUR, hour, hour.plusSeconds(3600)))
                .stream()
                .anyMatch(c -> c.trades() == 4));
    return new Scenario(market, accountA, accountB, base, s, lag);
  }

  static void offer(ActorRef<Market.Command> m, WindowSpec w, long at) {
    TestProbe<Market.Outcome> probe = kit.createTestProbe();
    m.tell(new Market.OfferWindow(w, "pool-a", at, probe.ref()));
    assertEquals(ResultCode.OK, probe.expectMessageClass(Market.Outcome.class, WAIT).code());
  }

  static void place(ActorRef<Market.Command> m, BidSpec bid, long at) {
    TestProbe<Market.Outcome> probe = kit.createTestProbe();
    m.tell(Market.PlaceBid.of(bid, at, probe.ref()));
    assertEquals(ResultCode.OK, probe.expectMessageClass(Market.Outcome.class, WAIT).code());
  }

  /** Clears an epoch, checks its summary, and measures how long until its record is readable. */
  static void clear(
      ActorRef<Market.Command> m, String market, long epoch, long at, int leases, List<Long> lag)
      throws Exception {
    TestProbe<Market.EpochSummary> probe = kit.createTestProbe();
    m.tell(new Market.ClearEpoch(at, probe.ref()));
    Market.EpochSummary summary = probe.expectMessageClass(Market.EpochSummary.class, WAIT);
    assertEquals(epoch, summary.epoch());
    assertEquals(leases, summary.leases());
    lag.add(awaitTrue(() -> get(readSide.epoch(market, epoch)).isPresent()));
  }

  /** Polls, sleeping between tries, until the condition holds; returns the millis it took. */
  static long awaitTrue(Supplier<Boolean> condition) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + WAIT.toNanos();
    while (!condition.get()) {
      assertFalse(System.nanoTime() > deadline, "the read side did not catch up in " + WAIT);
      Thread.sleep(POLL_MILLIS);
    }
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  static List<LeaseRow> allLeases(long account, int pageSize) {
    List<LeaseRow> out = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Page<LeaseRow> page = get(readSide.leases(account, cursor, pageSize));
      assertTrue(page.items().size() <= pageSize);
      out.addAll(page.items());
      cursor = page.next();
    } while (cursor != null && ++pages < 20);
    assertNull(cursor, "pages never ended");
    return out;
  }

  static ReadSideHandler newHandler() {
    CompletionStage<CqlSession> session =
        CassandraSessionRegistry.get(kit.system())
            .sessionFor(ReadSideSettings.DEFAULT_SESSION_CONFIG_PATH)
            .underlying();
    return new ReadSideHandler(session, keyspace, CLOCK);
  }

  /** An epoch of one market that made one lease per id, all to {@code account}. */
  static Market.EpochCleared epochAt(long atMillis, long epoch, long account, long... leaseIds) {
    int s = CLOCK.slotAtOrAfter(atMillis);
    List<Lease> leases = new ArrayList<>();
    for (long id : leaseIds) {
      leases.add(new Lease(id, id, account, 1, 1, 8, s, s + 4, 1_000_000, 1_000_000, epoch));
    }
    return new Market.EpochCleared(
        atMillis,
        epoch,
        1_000_000,
        leaseIds[0],
        leases,
        new long[0],
        new long[0],
        new long[0],
        new byte[0],
        new int[7],
        0);
  }

  static EventEnvelope<Market.Event> envelope(String market, Market.EpochCleared e) {
    return EventEnvelope.create(
        org.apache.pekko.persistence.query.Offset.noOffset(),
        "Market|" + market,
        e.epoch(),
        e,
        e.atMillis());
  }

  static <T> T get(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("query failed", e);
    }
  }
}
