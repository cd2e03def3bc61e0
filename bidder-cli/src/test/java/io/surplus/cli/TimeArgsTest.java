package io.surplus.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class TimeArgsTest {

  static final Instant NOW = Instant.parse("2026-11-23T08:07:00Z");

  @Test
  void shouldReadNowRelativeAndIsoInstants() {
    assertEquals(NOW, TimeArgs.instant("now", NOW));
    assertEquals(Instant.parse("2026-11-23T10:07:00Z"), TimeArgs.instant("+2h", NOW));
    assertEquals(Instant.parse("2026-11-23T08:37:00Z"), TimeArgs.instant("+30", NOW));
    assertEquals(
        Instant.parse("2026-11-23T12:00:00Z"), TimeArgs.instant("2026-11-23T12:00:00Z", NOW));
    assertEquals(
        Instant.parse("2026-11-23T11:00:00Z"), TimeArgs.instant("2026-11-23T12:00:00+01:00", NOW));
  }

  @Test
  void shouldReadDurationsWithUnitsOrInTheOptionsOwnUnit() {
    assertEquals(Duration.ofMinutes(90), TimeArgs.duration("1h30m", ChronoUnit.MINUTES));
    assertEquals(Duration.ofMinutes(90), TimeArgs.duration("90", ChronoUnit.MINUTES));
    assertEquals(Duration.ofSeconds(90), TimeArgs.duration("90", ChronoUnit.SECONDS));
    assertEquals(Duration.ofDays(1).plusHours(2), TimeArgs.duration("1d2h", ChronoUnit.MINUTES));
    assertEquals(Duration.ofSeconds(45), TimeArgs.duration("45s", ChronoUnit.MINUTES));
  }

  @Test
  void shouldRefuseWhatIsNotATimeOrDurationWithAnExample() {
    TypeConversionException t =
        assertThrows(TypeConversionException.class, () -> TimeArgs.instant("tomorrow", NOW));
    assertTrue(t.getMessage().contains("'tomorrow'") && t.getMessage().contains("+2h"));
    for (String bad : new String[] {"", "2x", "h", "30m1h", "1.5h", "-1h"}) {
      TypeConversionException d =
          assertThrows(
              TypeConversionException.class, () -> TimeArgs.duration(bad, ChronoUnit.MINUTES), bad);
      assertTrue(d.getMessage().contains("90m"), d.getMessage());
    }
  }
}
