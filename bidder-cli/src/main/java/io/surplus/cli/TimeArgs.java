package io.surplus.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Times and durations as a person types them. An instant is {@code now}, {@code +2h} (from now) or
 * ISO-8601 ({@code 2026-11-23T08:00:00Z}, or with an offset). A duration is a number with units,
 * largest first ({@code 90m}, {@code 2h}, {@code 1h30m}, {@code 1d}, {@code 45s}), or a plain
 * number in the option's own unit.
 */
final class TimeArgs {

  private static final Pattern DURATION =
      Pattern.compile("(?:(\\d{1,6})d)?(?:(\\d{1,6})h)?(?:(\\d{1,6})m)?(?:(\\d{1,6})s)?");

  private TimeArgs() {}

  static Instant instant(String text, Instant now) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    if (t.equals("now")) {
      return now;
    }
    if (t.startsWith("+")) {
      return now.plus(duration(t.substring(1), ChronoUnit.MINUTES));
    }
    try {
      return Instant.parse(text.strip());
    } catch (DateTimeParseException e) {
      try {
        return OffsetDateTime.parse(text.strip()).toInstant();
      } catch (DateTimeParseException e2) {
        throw new TypeConversionException(
            "'"
                + text
                + "' is not a time: use now, +<duration> such as +2h, or ISO-8601 such as"
                + " 2026-11-23T08:00:00Z");
      }
    }
  }

  /** A duration; a plain number counts in {@code plainUnit}. */
  static Duration duration(String text, ChronoUnit plainUnit) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    if (t.matches("\\d{1,9}")) {
      return Duration.of(Long.parseLong(t), plainUnit);
    }
    Matcher m = DURATION.matcher(t);
    if (t.isEmpty() || !m.matches()) {
      throw new TypeConversionException(
          "'"
              + text
              + "' is not a duration: use a number of "
              + plainUnit.toString().toLowerCase(Locale.ROOT)
              + " or units such as 90m, 2h, 1h30m, 1d, 45s");
    }
    Duration d = Duration.ZERO;
    ChronoUnit[] units = {
      ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS
    };
    for (int i = 0; i < units.length; i++) {
      if (m.group(i + 1) != null) {
        d = d.plus(Long.parseLong(m.group(i + 1)), units[i]);
      }
    }
    return d;
  }

  /** {@code --start}/{@code --end}/{@code --from}: an instant, relative ones from now. */
  static final class InstantConverter implements ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      return instant(value, Instant.now().truncatedTo(ChronoUnit.SECONDS));
    }
  }

  /** A duration whose plain numbers are minutes ({@code --duration}). */
  static final class Minutes implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return duration(value, ChronoUnit.MINUTES);
    }
  }

  /** A duration whose plain numbers are seconds ({@code --min-notice}, {@code --for}). */
  static final class Seconds implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return duration(value, ChronoUnit.SECONDS);
    }
  }
}
