package io.surplus.feed.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.GpuModel;
import io.surplus.engine.RevocationKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Whatever a line holds, the parser answers with a complete event or an error; it never throws. */
class FeedParserPropertiesTest {

  private static final List<String> SNIPPETS =
      List.of(
          "",
          "\"",
          "{",
          "}",
          "[",
          ",",
          ":",
          "null",
          "-1",
          "0",
          "1e309",
          "99999999999999999999",
          "\"x\"",
          "\"\"",
          "1.5",
          "true",
          "\"1.1234567\"",
          "\"2025-13-40T00:00:00Z\"",
          "\\u0000",
          "\"type\"",
          "\"seq\"",
          "\"nodes\"",
          "\"end\"",
          "\"at\"",
          "\u00e9",
          "\ud800");

  private final FeedParser parser = new FeedParser();

  @Property(tries = 1000)
  void arbitraryTextNeverThrowsAndAnEventIsAlwaysWhole(@ForAll String line) {
    check(line, 1, parser.parse(line, 1));
  }

  @Property(tries = 1000)
  void arbitraryBytesNeverThrow(@ForAll @Size(max = 300) byte[] bytes) {
    ParseResult r = parser.parse(bytes, 1);
    assertNotNull(r);
    if (r instanceof FeedEvent e) {
      assertWhole(e);
    }
  }

  @Property(tries = 1500)
  void mutatedValidLinesNeverThrowAndNeverHalfBuildAnEvent(
      @ForAll("events") FeedEvent event,
      @ForAll @IntRange(min = 0, max = 5) int mutation,
      @ForAll @IntRange(min = 0, max = 10_000) int position,
      @ForAll @IntRange(min = 0, max = 40) int length,
      @ForAll("snippets") String snippet) {
    String valid = FeedWriter.toJson(event);
    assertEquals(event, parser.parse(valid, 1), "the valid line itself");
    int at = position % (valid.length() + 1);
    int to = Math.min(valid.length(), at + length);
    String line =
        switch (mutation) {
          case 0 -> valid.substring(0, at) + valid.substring(to);
          case 1 -> valid.substring(0, at) + snippet + valid.substring(at);
          case 2 -> valid.substring(0, at) + snippet + valid.substring(to);
          case 3 -> valid.substring(0, at);
          case 4 ->
              valid.replaceFirst(
                  ":[^,}]*", java.util.regex.Matcher.quoteReplacement(":" + snippet));
          default -> valid.replace(",\"", "," + snippet + "\"");
        };
    check(line, 9, parser.parse(line, 9));
  }

  private void check(String line, long lineNumber, ParseResult r) {
    assertNotNull(r);
    if (r instanceof FeedError e) {
      assertEquals(lineNumber, e.line());
      assertFalse(e.rule().isBlank());
      if (e.field() != null) {
        // A named field is one of the protocol's, or the unknown field the line brought.
        assertTrue(
            isKnownField(e.field()) || e.rule().startsWith("is not a field of"),
            () -> "field " + e);
      }
    } else {
      assertWhole((FeedEvent) r);
    }
  }

  /** A whole event writes out and reads back as itself: no field is missing or invalid. */
  private void assertWhole(FeedEvent e) {
    String json = FeedWriter.toJson(e);
    assertEquals(e, parser.parse(json.getBytes(StandardCharsets.UTF_8), 1));
  }

  private static boolean isKnownField(String field) {
    return FeedParser.FIELDS.values().stream().anyMatch(fs -> fs.contains(field));
  }

  @Provide
  Arbitrary<String> snippets() {
    return Arbitraries.oneOf(
        Arbitraries.of(SNIPPETS), Arbitraries.strings().ofMaxLength(6).withCharRange(' ', '~'));
  }

  @Provide
  Arbitrary<FeedEvent> events() {
    Arbitrary<Long> seq = Arbitraries.longs().between(1, Long.MAX_VALUE);
    Arbitrary<String> id =
        Arbitraries.strings().withChars("abcXYZ019._-").ofMinLength(1).ofMaxLength(64);
    Arbitrary<Instant> instant =
        Arbitraries.longs().between(1_600_000_000L, 1_900_000_000L).map(Instant::ofEpochSecond);
    Arbitrary<Integer> nodes = Arbitraries.integers().between(1, FeedRules.MAX_NODES);
    Arbitrary<WindowOpened> opened =
        Combinators.combine(
                seq,
                id,
                Arbitraries.of("H100-SXM-80GB", "H200-SXM-141GB", "A100-SXM-80GB"),
                nodes,
                instant,
                Arbitraries.longs().between(1, 86_400 * 30L),
                Arbitraries.longs().between(1, 1_000_000_000L),
                Arbitraries.integers().between(-1, 1_000_000))
            .as(
                (s, w, model, n, start, length, price, conf) ->
                    new WindowOpened(
                        s,
                        w,
                        new GpuModel(model),
                        "pool-" + w.length(),
                        "us-east",
                        n,
                        8,
                        start,
                        start.plusSeconds(length),
                        price,
                        (int) (length % 3600),
                        conf < 0 ? OptionalInt.empty() : OptionalInt.of(conf)));
    Arbitrary<FeedEvent> extended = Combinators.combine(seq, id, instant).as(WindowExtended::new);
    Arbitrary<FeedEvent> revoked =
        Combinators.combine(
                seq,
                id,
                Arbitraries.of(RevocationKind.class),
                instant,
                nodes,
                Arbitraries.of(true, false))
            .as(
                (s, w, kind, at, n, byNodes) ->
                    byNodes
                        ? WindowRevoked.nodes(s, w, kind, at, n)
                        : WindowRevoked.endingAt(s, w, kind, at));
    Arbitrary<FeedEvent> heartbeat =
        Combinators.combine(seq, instant.optional()).as((s, at) -> new Heartbeat(s, at));
    return Arbitraries.oneOf(opened.map(o -> (FeedEvent) o), extended, revoked, heartbeat);
  }
}
