package io.surplus.market.bids;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.surplus.engine.BidSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A bid travels in journal events (BidPlaced, the account's BidEntry) as Jackson CBOR: one written
 * before minConfidencePpm, avoidPools and requeueAvoidsPool must read back with none of them and
 * requeueAvoidsPool false, so old journals replay as they cleared; one written with them reads back
 * equal.
 */
class BidSpecJournalTest {

  static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());

  @Test
  void shouldReadABidWrittenBeforeTheSteeringFieldsWithoutThem() throws Exception {
    BidSpec old = BidSpec.gtc(7, 3, 4, 2, 8, 100, 140, 2_000_000);
    ObjectNode tree = CBOR.valueToTree(old);
    tree.remove(List.of("minConfidencePpm", "avoidPools", "requeueAvoidsPool"));
    BidSpec read = CBOR.readValue(CBOR.writeValueAsBytes(tree), BidSpec.class);
    assertEquals(old, read);
    assertEquals(0, read.minConfidencePpm());
    assertEquals(List.of(), read.avoidPools());
    assertEquals(false, read.requeueAvoidsPool());
  }

  @Test
  void shouldRoundTripASteeredBid() throws Exception {
    BidSpec steered =
        BidSpec.gtc(7, 3, 4, 2, 8, 100, 140, 2_000_000)
            .withSteering(900_000, List.of(0xabcdef, 12), true);
    assertEquals(steered, CBOR.readValue(CBOR.writeValueAsBytes(steered), BidSpec.class));
  }
}
