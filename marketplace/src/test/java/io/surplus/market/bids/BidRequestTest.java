package io.surplus.market.bids;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.surplus.engine.BidSpec;
import io.surplus.engine.SlotClock;
import io.surplus.market.http.Problem;
import io.surplus.market.settings.Settings;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A bid request's rounding to slots, on the default grid and on an accelerated demo grid. */
class BidRequestTest {

  static Settings settings(int slotSeconds) {
    return Settings.from(
        ConfigFactory.parseString("surplus.slot-seconds = " + slotSeconds)
            .withFallback(ConfigFactory.load()));
  }

  static BidRequest bid(int minutes, Instant from, Instant to) {
    return new BidRequest(
        "H100-SXM-80GB",
        2,
        null,
        minutes,
        from.toString(),
        to.toString(),
        "2.50",
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  @Test
  void shouldRoundTheWindowInwardAndTheDurationUpToWholeSlots() {
    Settings s = settings(900);
    SlotClock clock = s.clock();
    long now = Instant.parse("2026-11-23T10:07:00Z").toEpochMilli();
    BidSpec spec =
        bid(20, Instant.parse("2026-11-23T10:20:00Z"), Instant.parse("2026-11-23T11:40:00Z"))
            .toSpec(s, now);
    assertEquals(clock.slotAtOrAfter(Instant.parse("2026-11-23T10:30:00Z")), spec.earliestStart());
    assertEquals(clock.slotAtOrBefore(Instant.parse("2026-11-23T11:30:00Z")), spec.latestEnd());
    assertEquals(2, spec.durationSlots()); // 20 minutes take two 15-minute slots
  }

  @Test
  void shouldTakeMinuteBidsOnAFifteenSecondDemoGrid() {
    Settings s = settings(15);
    long now = Instant.parse("2026-11-23T10:00:05Z").toEpochMilli();
    BidSpec spec =
        bid(1, Instant.parse("2026-11-23T10:00:15Z"), Instant.parse("2026-11-23T10:02:00Z"))
            .toSpec(s, now);
    assertEquals(4, spec.durationSlots());
    // the horizon is 672 slots of 15 s: 168 minutes
    Problem p =
        assertThrows(
                Problem.Failure.class,
                () ->
                    bid(
                            169,
                            Instant.parse("2026-11-23T10:00:15Z"),
                            Instant.parse("2026-11-23T12:00:00Z"))
                        .toSpec(s, now))
            .problem();
    assertEquals("durationMinutes", p.field());
  }
}
