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
 * The account's snapshot keeps every field of its state: a state with every field set goes to its
 * snapshot record, through the serializer the journal uses (Jackson CBOR), and back, and each field
 * reads the same. A field added to the state and left out of the snapshot fails here, since the
 * test first checks that its state has every field set (and so must be told about the new one).
 */
class AccountSnapshotTest {

  static final ActorTestKit kit =
      ActorTestKit.create(
          "account-snapshot-test",
          ConfigFactory.parseString("pekko.actor.provider = local")
              .withFallback(ConfigFactory.load()));

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  /** A state with every field set to something other than its default. */
  static Account.State everyFieldSet() {
    Account.State s = new Account.State();
    s.exists = true;
    s.id = 7;
    s.role = Role.PROVIDER;
    s.name = "fleet-7";
    s.creditLimit = 9_000_000_000L;
    s.keyHashes.addAll(List.of("h1", "h2"));
    s.nextSeq = 12;
    BidSpec spec = BidSpec.gtc((7L << 32) | 3, 7, 4, 2, 4, 1_000, 1_200, 3_500_000);
    Account.BidEntry bid =
        new Account.BidEntry(
            (7L << 32) | 3,
            "H100-SXM-80GB",
            spec,
            42_000_000,
            "idem-3",
            "hash-3",
            1_800_000_000_000L,
            Account.BidStatus.OPEN);
    s.bids.put(bid.bidId(), bid);
    s.byIdempotencyKey.put(bid.idempotencyKey(), bid.bidId());
    s.lastEpochByMarket.put("H100-SXM-80GB", 41L);
    s.feedSeq = 99;
    s.lastRevocationByMarket.put("H100-SXM-80GB", 5L);
    s.webhook = new Account.Webhook("https://example.com/hook", "whsec_1");
    s.windowKeys.put(
        "win-key", new Account.WindowIdReserved((7L << 32) | 4, "H100-SXM-80GB", "win-key", "wh"));
    s.leases.put(
        "H100-SXM-80GB/17",
        new Account.LeaseEntry(
            "H100-SXM-80GB/17",
            (7L << 32) | 2,
            2_000_000,
            2,
            8,
            1_800_000_000_000L,
            1_800_003_600_000L,
            32_000_000,
            8_000_000));
    s.reserved = 42_000_000;
    s.leased = 32_000_000;
    s.charged = 8_000_000;
    s.chargedThroughMillis = 1_800_000_900_000L;
    s.closedBids = 3;
    return s;
  }

  @Test
  void shouldKeepEveryFieldOfTheStateThroughItsSnapshot() throws Exception {
    Account.State before = everyFieldSet();
    List<Field> fields = stateFields();
    for (Field f : fields) {
      assertFalse(isDefault(f.get(before)), "the test's state leaves " + f.getName() + " unset");
    }
    Object snapshot = Account.SNAPSHOTS.toJournal(before);
    Serialization serialization = SerializationExtension.get(kit.system());
    byte[] bytes = serialization.serialize(snapshot).get();
    Serializer serializer = serialization.findSerializerFor(snapshot);
    Object read =
        serialization
            .deserialize(
                bytes, serializer.identifier(), Serializers.manifestFor(serializer, snapshot))
            .get();
    assertEquals(snapshot, read, "the snapshot record after the serializer");
    Account.State after = Account.SNAPSHOTS.fromJournal(read);
    for (Field f : fields) {
      assertEquals(f.get(before), f.get(after), f.getName());
    }
  }

  static List<Field> stateFields() {
    return java.util.Arrays.stream(Account.State.class.getDeclaredFields())
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
