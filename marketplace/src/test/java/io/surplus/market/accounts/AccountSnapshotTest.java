package io.surplus.market.accounts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.ConfigFactory;
import io.surplus.engine.BidSpec;
import io.surplus.market.http.Role;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The account's snapshot keeps every field of its state: a state with every field of every part set
 * goes to its snapshot record, through the serializer the journal uses (Jackson CBOR), and back,
 * and each field reads the same; so does each part's own snapshot record. A field added to a part
 * and left out of its snapshot fails here, since the test first checks that its state has every
 * field set (and so must be told about the new one). A snapshot of the shape before the parts is
 * still read.
 */
class AccountSnapshotTest {

  static final ActorTestKit kit =
      ActorTestKit.create(
          "account-snapshot-test",
          ConfigFactory.parseString("pekko.actor.provider = local")
              .withFallback(ConfigFactory.load()));

  static final String H100 = "H100-SXM-80GB";
  static final Account.BidEntry BID =
      new Account.BidEntry(
          (7L << 32) | 3,
          H100,
          BidSpec.gtc((7L << 32) | 3, 7, 4, 2, 4, 1_000, 1_200, 3_500_000),
          42_000_000,
          "idem-3",
          "hash-3",
          1_800_000_000_000L,
          Account.BidStatus.OPEN);

  /**
   * A bid reserved and not yet confirmed: the ledger's pending bids are rebuilt from its status.
   */
  static final Account.BidEntry PENDING_BID =
      new Account.BidEntry(
          (7L << 32) | 4,
          H100,
          BidSpec.gtc((7L << 32) | 4, 7, 2, 2, 4, 1_000, 1_200, 3_000_000),
          24_000_000,
          "idem-4",
          "hash-4",
          1_800_000_100_000L,
          Account.BidStatus.PENDING);

  static final Account.LeaseEntry LEASE =
      new Account.LeaseEntry(
          H100 + "/17",
          (7L << 32) | 2,
          2_000_000,
          2,
          8,
          1_800_000_000_000L,
          1_800_003_600_000L,
          32_000_000,
          8_000_000);
  static final Account.WindowIdReserved WINDOW =
      new Account.WindowIdReserved((7L << 32) | 4, H100, "win-key", "wh");
  static final Account.Webhook WEBHOOK = new Account.Webhook("https://example.com/hook", "whsec_1");

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** A state with every field of every part set to something other than its default. */
  static Account.State everyFieldSet() {
    Account.State s = new Account.State();
    AccountIdentity i = s.identity;
    i.exists = true;
    i.id = 7;
    i.role = Role.PROVIDER;
    i.name = "fleet-7";
    i.creditLimit = 9_000_000_000L;
    i.keyHashes.addAll(List.of("h1", "h2"));
    s.nextSeq = 12;
    Ledger l = s.ledger;
    l.bids.put(BID.bidId(), BID);
    l.byIdempotencyKey.put(BID.idempotencyKey(), BID.bidId());
    l.bids.put(PENDING_BID.bidId(), PENDING_BID);
    l.byIdempotencyKey.put(PENDING_BID.idempotencyKey(), PENDING_BID.bidId());
    l.pending.add(PENDING_BID.bidId());
    l.lastEpochByMarket.put(H100, 41L);
    l.lastRevocationByMarket.put(H100, 5L);
    l.leases.put(LEASE.leaseKey(), LEASE);
    l.reserved = 42_000_000;
    l.leased = 32_000_000;
    l.charged = 8_000_000;
    l.chargedThroughMillis = 1_800_000_900_000L;
    l.closedBids = 3;
    s.feed.feedSeq = 99;
    s.feed.windowKeys.put(WINDOW.idempotencyKey(), WINDOW);
    s.webhook = WEBHOOK;
    return s;
  }

  /** The same state as a snapshot of the shape before the parts holds it. */
  static Account.AccountSnapshot everyFieldSetTheOldWay() {
    return new Account.AccountSnapshot(
        true,
        7,
        Role.PROVIDER,
        "fleet-7",
        9_000_000_000L,
        List.of("h1", "h2"),
        12,
        List.of(BID, PENDING_BID),
        Map.of(H100, 41L),
        List.of(WINDOW),
        99,
        Map.of(H100, 5L),
        WEBHOOK,
        List.of(LEASE),
        42_000_000,
        32_000_000,
        8_000_000,
        1_800_000_900_000L,
        3);
  }

  @Test
  void shouldKeepEveryFieldOfEveryPartThroughTheSnapshot() {
    Account.State before = everyFieldSet();
    assertEveryFieldSet(before);
    Object snapshot = Account.SNAPSHOTS.toJournal(before);
    Object read = throughTheSerializer(snapshot);
    assertEquals(snapshot, read, "the snapshot record after the serializer");
    assertSameState(before, Account.SNAPSHOTS.fromJournal(read));
  }

  @Test
  void shouldRoundTripEachPartsSnapshotOnItsOwn() {
    Account.State s = everyFieldSet();
    for (Object part : List.of(s.identity.snapshot(), s.ledger.snapshot(), s.feed.snapshot())) {
      assertEquals(part, throughTheSerializer(part), part.getClass().getSimpleName());
    }
    assertSameFields(s.identity, AccountIdentity.of(s.identity.snapshot()));
    assertSameFields(s.ledger, Ledger.of(s.ledger.snapshot()));
    assertSameFields(s.feed, ProviderFeed.of(s.feed.snapshot()));
  }

  @Test
  void shouldReadASnapshotOfTheShapeBeforeTheParts() {
    Account.AccountSnapshot old = everyFieldSetTheOldWay();
    Object read = throughTheSerializer(old);
    assertEquals(old, read);
    assertSameState(everyFieldSet(), Account.SNAPSHOTS.fromJournal(read));
  }

  static Object throughTheSerializer(Object snapshot) {
    Serialization serialization = SerializationExtension.get(kit.system());
    byte[] bytes = serialization.serialize(snapshot).get();
    Serializer serializer = serialization.findSerializerFor(snapshot);
    return serialization
        .deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, snapshot))
        .get();
  }

  /** The state's own fields, then each part's, all set. */
  static void assertEveryFieldSet(Account.State s) {
    try {
      for (Object o : List.of(s, s.identity, s.ledger, s.feed)) {
        for (Field f : fields(o.getClass())) {
          assertFalse(
              isDefault(f.get(o)),
              "the test's state leaves " + o.getClass().getSimpleName() + "." + f.getName());
        }
      }
    } catch (IllegalAccessException e) {
      throw new AssertionError(e);
    }
  }

  static void assertSameState(Account.State before, Account.State after) {
    assertEquals(before.nextSeq, after.nextSeq, "nextSeq");
    assertEquals(before.webhook, after.webhook, "webhook");
    assertSameFields(before.identity, after.identity);
    assertSameFields(before.ledger, after.ledger);
    assertSameFields(before.feed, after.feed);
  }

  static void assertSameFields(Object before, Object after) {
    try {
      for (Field f : fields(before.getClass())) {
        assertEquals(
            f.get(before), f.get(after), before.getClass().getSimpleName() + "." + f.getName());
      }
    } catch (IllegalAccessException e) {
      throw new AssertionError(e);
    }
  }

  static List<Field> fields(Class<?> type) {
    return java.util.Arrays.stream(type.getDeclaredFields())
        .filter(f -> !Modifier.isStatic(f.getModifiers()) && !f.isSynthetic())
        .peek(f -> f.setAccessible(true))
        .toList();
  }

  static boolean isDefault(Object v) {
    return v == null
        || Boolean.FALSE.equals(v)
        || (v instanceof Number n && n.longValue() == 0)
        || (v instanceof Collection<?> c && c.isEmpty())
        || (v instanceof Map<?, ?> m && m.isEmpty());
  }
}
