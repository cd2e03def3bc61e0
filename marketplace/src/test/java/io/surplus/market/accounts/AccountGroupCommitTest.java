package io.surplus.market.accounts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.surplus.engine.BidSpec;
import io.surplus.market.http.Role;
import io.surplus.market.ids.Ids;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess$;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The account's group commit: reservations and confirmations that arrive together ride in one
 * journal write, keep their order, each caller gets its own outcome, and credit never passes its
 * limit. (The grouping only: the journal is Pekko's in-memory test journal; durability is tested
 * against Cassandra in the http package.) Each test holds one write in the journal while it sends
 * its commands, so what arrives during a write is known, not a matter of timing.
 */
class AccountGroupCommitTest {

  /** Holds the next journal write until released: the commands sent meanwhile wait for it. */
  static final class HoldNextWrite implements ProcessingPolicy<JournalOperation> {
    private volatile CountDownLatch holding;
    private volatile CountDownLatch release;

    void arm() {
      holding = new CountDownLatch(1);
      release = new CountDownLatch(1);
    }

    void awaitHeld() throws InterruptedException {
      assertTrue(holding.await(10, TimeUnit.SECONDS), "no write reached the journal");
    }

    void release() {
      release.countDown();
    }

    @Override
    public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
      CountDownLatch held = holding;
      if (op instanceof WriteEvents && held != null && held.getCount() > 0) {
        held.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return ProcessingSuccess$.MODULE$;
    }
  }

  static final ActorTestKit kit =
      ActorTestKit.create(
          "account-group-test",
          EventSourcedBehaviorTestKit.config()
              .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
              .withFallback(ConfigFactory.load()));

  static final HoldNextWrite hold = new HoldNextWrite();

  static {
    PersistenceTestKit.create(kit.system()).withPolicy(hold);
  }

  static final Duration ASK = Duration.ofSeconds(10);
  static final long T0 = 1_800_000_000_000L;
  static final long LIMIT = 1_000_000_000L; // $1,000
  static final long TEN_DOLLARS = 10_000_000L;
  static int nextId = 100;

  ActorRef<Account.Command> account;
  long id;

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    id = nextId++;
    account =
        kit.spawn(
            Account.create(
                id, Duration.ofHours(1), Duration.ofHours(1), AccountTest.NEVER_ANSWERS));
    TestProbe<Account.Created> created = kit.createTestProbe();
    account.tell(
        new Account.CreateAccount(Role.BIDDER, "t", LIMIT, "h", Long.MAX_VALUE, created.getRef()));
    assertTrue(created.receiveMessage(ASK).created());
  }

  static BidSpec spec() {
    return BidSpec.gtc(1, 0, 1, 1, 4, 100, 200, 12_500_000);
  }

  Account.ReserveBid reserve(
      String key, String hash, String market, ActorRef<Account.Reservation> to) {
    return new Account.ReserveBid(key, hash, market, spec(), TEN_DOLLARS, T0, Long.MAX_VALUE, to);
  }

  Account.Writes writes() {
    TestProbe<Account.Writes> p = kit.createTestProbe();
    account.tell(new Account.GetWrites(p.getRef()));
    return p.receiveMessage(ASK);
  }

  long seq(long bidId) {
    assertEquals(id, Ids.accountOf(bidId));
    return bidId & 0xFFFF_FFFFL;
  }

  int holds;

  /** Sends one reservation and holds its write in the journal; returns the probe of its answer. */
  TestProbe<Account.Reservation> holdAWrite() throws InterruptedException {
    hold.arm();
    TestProbe<Account.Reservation> p = kit.createTestProbe();
    String key = "held-" + holds++;
    account.tell(reserve(key, key, "H100-SXM-80GB", p.getRef()));
    hold.awaitHeld();
    return p;
  }

  @Test
  void shouldWriteBidsSentTogetherInOneWriteInTheirOrderEachWithItsOwnAnswer() throws Exception {
    int n = 60;
    TestProbe<Account.Reservation> held = holdAWrite();
    List<TestProbe<Account.Reservation>> probes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      TestProbe<Account.Reservation> p = kit.createTestProbe();
      probes.add(p);
      account.tell(reserve("k" + i, "h" + i, "H100-SXM-80GB", p.getRef()));
    }
    hold.release();
    assertEquals(
        1, seq(assertInstanceOf(Account.Reserved.class, held.receiveMessage(ASK)).bidId()));
    long previous = 1;
    for (int i = 0; i < n; i++) {
      Account.Reserved r =
          assertInstanceOf(Account.Reserved.class, probes.get(i).receiveMessage(ASK));
      assertTrue(seq(r.bidId()) > previous, "bid " + i + " out of order: " + r);
      previous = seq(r.bidId());
      assertEquals(false, r.replay());
    }
    assertEquals(n + 1, previous, "one bid id per reservation, none skipped");
    // the held write, and one write for the 60 that waited behind it
    assertEquals(new Account.Writes(2, n + 1), writes());

    // their confirmations go together too, and a read sent after them sees every bid open
    held = holdAWrite();
    TestProbe<Done> confirmed = kit.createTestProbe();
    for (int i = 2; i <= n + 1; i++) {
      account.tell(new Account.ConfirmBid((id << 32) | i, confirmed.getRef()));
    }
    TestProbe<Account.BidPage> page = kit.createTestProbe();
    account.tell(new Account.ListBids(Account.BidStatus.OPEN, 0, 1000, page.getRef()));
    hold.release();
    held.receiveMessage(ASK);
    assertEquals(n, page.receiveMessage(ASK).bids().size());
    confirmed.receiveSeveralMessages(n, ASK);
    assertEquals(new Account.Writes(4, 2 * n + 2), writes());
  }

  @Test
  void shouldCloseAndReserveInOneWriteWithTheCreditTheClosesFreed() throws Exception {
    TestProbe<Account.Reservation> full = kit.createTestProbe();
    for (int i = 0; i < 99; i++) {
      account.tell(reserve("full-" + i, "h", "H100-SXM-80GB", full.getRef()));
    }
    full.receiveSeveralMessages(99, ASK);
    Account.Writes before = writes();
    TestProbe<Account.Reservation> held = holdAWrite(); // the 100th $10: the limit is reached
    TestProbe<Done> closed = kit.createTestProbe();
    for (int i = 1; i <= 5; i++) {
      account.tell(
          new Account.CloseBid((id << 32) | i, Account.BidStatus.CANCELLED, closed.getRef()));
    }
    List<TestProbe<Account.Reservation>> again = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      TestProbe<Account.Reservation> p = kit.createTestProbe();
      again.add(p);
      account.tell(reserve("again-" + i, "h", "A100-SXM-80GB", p.getRef()));
    }
    hold.release();
    assertInstanceOf(Account.Reserved.class, held.receiveMessage(ASK));
    closed.receiveSeveralMessages(5, ASK);
    for (TestProbe<Account.Reservation> p : again) {
      assertInstanceOf(Account.Reserved.class, p.receiveMessage(ASK));
    }
    // the held write, then the five closes and five reservations in one write
    Account.Writes after = writes();
    assertEquals(before.writes() + 2, after.writes(), after.toString());
    assertEquals(before.commands() + 11, after.commands(), after.toString());
    TestProbe<Account.Balance> balance = kit.createTestProbe();
    account.tell(new Account.GetBalance(balance.getRef()));
    assertEquals(0, balance.receiveMessage(ASK).available());
  }

  @Test
  void shouldAnswerAKeyRepeatedInOneWriteWithTheSameBidOrAConflict() throws Exception {
    TestProbe<Account.Reservation> held = holdAWrite();
    TestProbe<Account.Reservation> first = kit.createTestProbe();
    TestProbe<Account.Reservation> again = kit.createTestProbe();
    TestProbe<Account.Reservation> other = kit.createTestProbe();
    account.tell(reserve("same", "h", "H100-SXM-80GB", first.getRef()));
    account.tell(reserve("same", "h", "H100-SXM-80GB", again.getRef()));
    account.tell(reserve("same", "other-body", "H100-SXM-80GB", other.getRef()));
    hold.release();
    held.receiveMessage(ASK);
    Account.Reserved r = assertInstanceOf(Account.Reserved.class, first.receiveMessage(ASK));
    assertEquals(
        new Account.Reserved(r.bidId(), true, Account.BidStatus.PENDING),
        again.receiveMessage(ASK));
    assertEquals(new Account.KeyReused(r.bidId()), other.receiveMessage(ASK));
    TestProbe<Account.Balance> balance = kit.createTestProbe();
    account.tell(new Account.GetBalance(balance.getRef()));
    assertEquals(LIMIT - 2 * TEN_DOLLARS, balance.receiveMessage(ASK).available(), "reserved once");
    assertEquals(new Account.Writes(2, 4), writes());
  }

  @Test
  void shouldNeverPassTheCreditLimitUnderConcurrentBidsAcrossMarkets() throws Exception {
    String[] markets = {"H100-SXM-80GB", "H200-SXM-141GB", "A100-SXM-80GB"};
    int threads = 6;
    int each = 40; // 240 bids of $10 against a $1,000 limit: the held one and 99 more fit
    TestProbe<Account.Reservation> held = holdAWrite();
    CountDownLatch sent = new CountDownLatch(threads * each);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    ConcurrentLinkedQueue<Account.Reservation> answers = new ConcurrentLinkedQueue<>();
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      all.add(
          CompletableFuture.runAsync(
              () -> {
                List<CompletableFuture<Account.Reservation>> mine = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                  String key = "t" + thread + "-" + i;
                  String market = markets[(thread + i) % markets.length];
                  mine.add(
                      AskPattern.<Account.Command, Account.Reservation>ask(
                              account, to -> reserve(key, key, market, to), ASK, kit.scheduler())
                          .toCompletableFuture());
                  sent.countDown();
                }
                mine.forEach(f -> answers.add(f.join()));
              },
              pool));
    }
    assertTrue(sent.await(30, TimeUnit.SECONDS));
    hold.release();
    assertInstanceOf(Account.Reserved.class, held.receiveMessage(ASK));
    CompletableFuture.allOf(all.toArray(CompletableFuture<?>[]::new)).get(60, TimeUnit.SECONDS);
    pool.shutdown();
    Set<Long> ids = new HashSet<>();
    int refused = 0;
    for (Account.Reservation r : answers) {
      if (r instanceof Account.Reserved ok) {
        assertTrue(ids.add(ok.bidId()), "bid id given twice: " + ok);
      } else {
        assertInstanceOf(Account.InsufficientCredit.class, r);
        refused++;
      }
    }
    assertEquals(threads * each, answers.size());
    assertEquals(99, ids.size(), "exactly the limit's worth reserved");
    assertEquals(threads * each - 99, refused);
    TestProbe<Account.Balance> balance = kit.createTestProbe();
    account.tell(new Account.GetBalance(balance.getRef()));
    Account.Balance b = balance.receiveMessage(ASK);
    assertEquals(0, b.available(), b.toString());
    // the held write, then the 240 that waited in one write (at most 256 go together)
    assertEquals(new Account.Writes(2, 1 + threads * each), writes());
  }

  @Test
  void shouldStopForAHandOffOnlyAfterItsWriteInFlightAndWhatWaitedAreWritten() throws Exception {
    TestProbe<Account.Reservation> held = holdAWrite();
    TestProbe<Account.Reservation> behind = kit.createTestProbe();
    account.tell(reserve("behind", "behind", "H100-SXM-80GB", behind.getRef()));
    account.tell(new Account.Stop());
    TestProbe<Object> watcher = kit.createTestProbe();
    hold.release();
    assertEquals(
        1, seq(assertInstanceOf(Account.Reserved.class, held.receiveMessage(ASK)).bidId()));
    assertEquals(
        2, seq(assertInstanceOf(Account.Reserved.class, behind.receiveMessage(ASK)).bidId()));
    watcher.expectTerminated(account, ASK);
  }
}
