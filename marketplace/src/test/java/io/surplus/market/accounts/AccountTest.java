package io.surplus.market.accounts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.surplus.engine.BidSpec;
import io.surplus.market.http.Role;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.Done;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The account's rules, command by command: credit, idempotency, fills, per-minute charges, late
 * commands. (The entity's logic only; durability is tested against Cassandra in the http package.)
 */
class AccountTest {

  static final org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit kit =
      org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit.create(
          "account-test",
          EventSourcedBehaviorTestKit.config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));

  static final long HOUR = 3_600_000L;

  /** A market that never answers the reconciler: these tests settle no pending bid. */
  static final Account.BookLookup NEVER_ANSWERS =
      (market, bidId) -> new java.util.concurrent.CompletableFuture<>();

  static final long T0 = 1_800_000_000_000L;

  EventSourcedBehaviorTestKit<Account.Command, Account.Event, Account.State> account;

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    account =
        EventSourcedBehaviorTestKit.create(
            kit.system(),
            Account.create(7, Duration.ofHours(1)),
            EventSourcedBehaviorTestKit.disabledSerializationSettings());
    account.<Account.Created>runCommand(
        r -> new Account.CreateAccount(Role.BIDDER, "t", 1_000_000_000L, "h", Long.MAX_VALUE, r));
  }

  static BidSpec spec() {
    return BidSpec.gtc(1, 0, 1, 1, 4, 100, 200, 12_500_000);
  }

  CommandResultWithReply<Account.Command, Account.Event, Account.State, Account.Reservation>
      reserve(String key, String hash, long amount) {
    return account.runCommand(
        r ->
            new Account.ReserveBid(
                key, hash, "H100-SXM-80GB", spec(), amount, T0, Long.MAX_VALUE, r));
  }

  @Test
  void shouldReserveUpToTheCreditLimitAndNoMore() {
    for (int i = 0; i < 10; i++) {
      assertInstanceOf(Account.Reserved.class, reserve("k" + i, "h" + i, 100_000_000L).reply());
    }
    var refused = reserve("k10", "h10", 100_000_000L);
    Account.InsufficientCredit c =
        assertInstanceOf(Account.InsufficientCredit.class, refused.reply());
    assertEquals(0, c.available());
    assertTrue(refused.events().isEmpty());
  }

  @Test
  void shouldAnswerTheSameBidForTheSameKeyAndRefuseAnotherBody() {
    Account.Reserved first = (Account.Reserved) reserve("k", "h", 1_000_000L).reply();
    assertEquals((7L << 32) | 1, first.bidId());
    Account.Reserved again = (Account.Reserved) reserve("k", "h", 1_000_000L).reply();
    assertEquals(first.bidId(), again.bidId());
    assertTrue(again.replay());
    var other = reserve("k", "different", 1_000_000L);
    assertInstanceOf(Account.KeyReused.class, other.reply());
    assertTrue(other.events().isEmpty());
  }

  @Test
  void shouldReserveABatchInOneWriteAgainstTheCreditTheEarlierBidsLeft() {
    reserve("before", "h", 500_000_000L);
    List<Account.BidToReserve> bids =
        List.of(
            new Account.BidToReserve("b#0", "h0", "H100-SXM-80GB", spec(), 300_000_000L, T0),
            new Account.BidToReserve("b#1", "h1", "H100-SXM-80GB", spec(), 300_000_000L, T0),
            new Account.BidToReserve("before", "h", "H100-SXM-80GB", spec(), 500_000_000L, T0),
            new Account.BidToReserve("b#3", "h3", "H100-SXM-80GB", spec(), 200_000_000L, T0));
    var result =
        account.<Account.Reservations>runCommand(
            r -> new Account.ReserveBids(bids, Long.MAX_VALUE, r));
    List<Account.Reservation> items = result.reply().items();
    assertEquals(4, items.size());
    assertEquals(
        new Account.Reserved((7L << 32) | 2, false, Account.BidStatus.PENDING), items.get(0));
    // $1,000 limit: $500 before, $300 now, so $200 is left for the second $300 bid
    assertEquals(new Account.InsufficientCredit(200_000_000L, 300_000_000L), items.get(1));
    // an earlier key answers its earlier bid
    assertEquals(
        new Account.Reserved((7L << 32) | 1, true, Account.BidStatus.PENDING), items.get(2));
    assertEquals(
        new Account.Reserved((7L << 32) | 3, false, Account.BidStatus.PENDING), items.get(3));
    assertEquals(2, result.events().size());
    assertEquals(
        0, account.<Account.Balance>runCommand(Account.GetBalance::new).reply().available());

    var confirmed =
        account.<Done>runCommand(
            d -> new Account.ConfirmBids(List.of((7L << 32) | 2, (7L << 32) | 3, 99L), d));
    assertEquals(
        List.of(new Account.BidConfirmed((7L << 32) | 2), new Account.BidConfirmed((7L << 32) | 3)),
        confirmed.events());
    assertEquals(
        Account.BidStatus.OPEN, account.getState().ledger.bids.get((7L << 32) | 3).status());
    assertEquals(
        Account.BidStatus.PENDING, account.getState().ledger.bids.get((7L << 32) | 1).status());
  }

  @Test
  void shouldNotPlaceAPendingBidAgainOnceItsReconcilerMayJudgeIt() {
    EventSourcedBehaviorTestKit<Account.Command, Account.Event, Account.State> sharded =
        EventSourcedBehaviorTestKit.create(
            kit.system(),
            Account.create(8, Duration.ofHours(1), Duration.ofHours(1), NEVER_ANSWERS),
            EventSourcedBehaviorTestKit.disabledSerializationSettings());
    sharded.<Account.Created>runCommand(
        r -> new Account.CreateAccount(Role.BIDDER, "t", 1_000_000_000L, "h", Long.MAX_VALUE, r));
    long deadline = T0 + 5_000;
    sharded.<Account.Reservation>runCommand(
        r -> new Account.ReserveBid("k", "h", "H100-SXM-80GB", spec(), 1, T0, deadline, r));
    // a retry whose placement would still be dropped before the grace period ends: placed again
    var early =
        sharded.<Account.Reservation>runCommand(
            r ->
                new Account.ReserveBid("k", "h", "H100-SXM-80GB", spec(), 1, T0, T0 + HOUR - 1, r));
    assertEquals(
        new Account.Reserved((8L << 32) | 1, true, Account.BidStatus.PENDING), early.reply());
    // one that could reach the market after the reconciler asked it: waits for the judgement
    var late =
        sharded.<Account.Reservation>runCommand(
            r -> new Account.ReserveBid("k", "h", "H100-SXM-80GB", spec(), 1, T0, T0 + HOUR, r));
    assertEquals(new Account.Settling((8L << 32) | 1, T0 + HOUR), late.reply());
    assertTrue(late.events().isEmpty());
  }

  @Test
  void shouldRefuseACommandThatArrivesAfterItsDeadline() {
    var late =
        account.<Account.Reservation>runCommand(
            r ->
                new Account.ReserveBid(
                    "k", "h", "M", spec(), 1, T0, System.currentTimeMillis() - 1, r));
    assertInstanceOf(Account.TooLate.class, late.reply());
    assertTrue(late.events().isEmpty());
  }

  @Test
  void shouldTurnAReservationIntoALeaseOnceAndChargePerWholeMinuteHeld() {
    Account.Reserved r = (Account.Reserved) reserve("k", "h", 100_000_000L).reply();
    // 2 nodes x 8 GPUs for 1 h at $3.00 = $48
    Account.Fill fill =
        new Account.Fill("H100-SXM-80GB.1", r.bidId(), 3_000_000, 2, 8, T0, T0 + HOUR);
    account.<Done>runCommand(
        d -> new Account.RecordEpoch("H100-SXM-80GB", 5, List.of(fill), List.of(), List.of(), d));
    // the same epoch again (projection redelivery) changes nothing
    var again =
        account.<Done>runCommand(
            d ->
                new Account.RecordEpoch(
                    "H100-SXM-80GB", 5, List.of(fill), List.of(), List.of(), d));
    assertTrue(again.events().isEmpty());
    Account.Balance b = account.<Account.Balance>runCommand(Account.GetBalance::new).reply();
    assertEquals(0, b.reserved());
    assertEquals(48_000_000, b.leased());
    assertEquals(Account.BidStatus.FILLED, account.getState().ledger.bids.get(r.bidId()).status());

    // 10 min 59 s held: 10 whole minutes = $8
    Account.Balance after10 =
        account.<Account.Balance>runCommand(x -> new Account.Bill(T0 + 659_000, x)).reply();
    assertEquals(8_000_000, after10.charged());
    assertEquals(40_000_000, after10.leased());
    // past the end: the rest, exactly the lease's cost, and the lease is settled
    Account.Balance done =
        account.<Account.Balance>runCommand(x -> new Account.Bill(T0 + 2 * HOUR, x)).reply();
    assertEquals(48_000_000, done.charged());
    assertEquals(0, done.leased());
    assertEquals(1_000_000_000L - 48_000_000, done.available());
    assertTrue(account.getState().ledger.leases.isEmpty());
  }

  @Test
  void shouldFreeTheReservationOfABidThatExpiresOrIsCancelled() {
    Account.Reserved a = (Account.Reserved) reserve("a", "h", 10_000_000L).reply();
    Account.Reserved b = (Account.Reserved) reserve("b", "h", 20_000_000L).reply();
    account.<Done>runCommand(
        d -> new Account.RecordEpoch("M", 1, List.of(), List.of(a.bidId()), List.of(), d));
    account.<Done>runCommand(d -> new Account.CloseBid(b.bidId(), Account.BidStatus.CANCELLED, d));
    assertEquals(
        0, account.<Account.Balance>runCommand(Account.GetBalance::new).reply().reserved());
    assertEquals(Account.BidStatus.EXPIRED, account.getState().ledger.bids.get(a.bidId()).status());
  }

  @Test
  void shouldRecoverTheSameStateFromItsEvents() {
    Account.Reserved r = (Account.Reserved) reserve("k", "h", 100_000_000L).reply();
    account.<Done>runCommand(
        d ->
            new Account.RecordEpoch(
                "M",
                1,
                List.of(new Account.Fill("M.1", r.bidId(), 1_000_000, 1, 8, T0, T0 + HOUR)),
                List.of(),
                List.of(),
                d));
    Account.Balance before = account.<Account.Balance>runCommand(Account.GetBalance::new).reply();
    account.restart();
    assertEquals(before, account.<Account.Balance>runCommand(Account.GetBalance::new).reply());
  }
}
