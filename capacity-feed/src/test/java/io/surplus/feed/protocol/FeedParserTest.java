package io.surplus.feed.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.engine.GpuModel;
import io.surplus.engine.RevocationKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FeedParserTest {

  private static final String OPENED =
      "{\"type\":\"window.opened\",\"seq\":41,\"windowId\":\"ash-h100-a.w17\","
          + "\"gpuModel\":\"H100-SXM-80GB\",\"pool\":\"ash-h100-a\",\"region\":\"us-east\","
          + "\"nodes\":96,\"gpusPerNode\":8,\"start\":\"2025-01-06T10:00:00Z\","
          + "\"end\":\"2025-01-06T13:30:00Z\",\"reservePrice\":\"1.40\",\"noticeSeconds\":900,"
          + "\"confidence\":\"0.95\"}";

  private final FeedParser parser = new FeedParser();

  @Test
  void shouldAcceptAWindowOpenedWithEveryField() {
    ParseResult r = parser.parse(OPENED, 1);
    assertEquals(
        new WindowOpened(
            41,
            "ash-h100-a.w17",
            new GpuModel("H100-SXM-80GB"),
            "ash-h100-a",
            "us-east",
            96,
            8,
            Instant.parse("2025-01-06T10:00:00Z"),
            Instant.parse("2025-01-06T13:30:00Z"),
            1_400_000,
            900,
            OptionalInt.of(950_000)),
        r);
  }

  @Test
  void shouldDefaultGpusPerNodeToEightAndLeaveConfidenceOut() {
    String line = OPENED.replace("\"gpusPerNode\":8,", "").replace(",\"confidence\":\"0.95\"", "");
    WindowOpened w = assertInstanceOf(WindowOpened.class, parser.parse(line, 1));
    assertEquals(8, w.gpusPerNode());
    assertEquals(OptionalInt.empty(), w.confidencePpm());
  }

  @Test
  void shouldAcceptAWindowExtended() {
    assertEquals(
        new WindowExtended(42, "w1", Instant.parse("2025-01-06T15:00:00Z")),
        parser.parse(
            "{\"type\":\"window.extended\",\"seq\":42,\"windowId\":\"w1\",\"end\":\"2025-01-06T15:00:00Z\"}",
            1));
  }

  @Test
  void shouldAcceptARevocationOfNodes() {
    assertEquals(
        WindowRevoked.nodes(
            43, "w1", RevocationKind.EMERGENCY, Instant.parse("2025-01-06T11:12:13Z"), 1),
        parser.parse(
            "{\"type\":\"window.revoked\",\"seq\":43,\"windowId\":\"w1\",\"kind\":\"emergency\","
                + "\"at\":\"2025-01-06T11:12:13Z\",\"nodes\":1}",
            1));
  }

  @Test
  void shouldAcceptARevocationToAnEarlierEnd() {
    assertEquals(
        WindowRevoked.endingAt(
            44, "w1", RevocationKind.PLANNED, Instant.parse("2025-01-06T12:00:00Z")),
        parser.parse(
            "{\"type\":\"window.revoked\",\"seq\":44,\"windowId\":\"w1\",\"kind\":\"planned\","
                + "\"at\":\"2025-01-06T12:00:00Z\",\"end\":\"2025-01-06T12:00:00Z\"}",
            1));
  }

  @Test
  void shouldAcceptHeartbeatsWithAndWithoutAnInstant() {
    assertEquals(
        new Heartbeat(45, Optional.empty()),
        parser.parse("{\"type\":\"heartbeat\",\"seq\":45}", 1));
    assertEquals(
        new Heartbeat(46, Optional.of(Instant.parse("2025-01-06T12:00:00Z"))),
        parser.parse("{\"type\":\"heartbeat\",\"seq\":46,\"at\":\"2025-01-06T12:00:00Z\"}", 1));
  }

  @Test
  void shouldReadBytesAsItReadsStrings() {
    byte[] bytes = ("xx" + OPENED + "yy").getBytes(StandardCharsets.UTF_8);
    assertEquals(parser.parse(OPENED, 7), parser.parse(bytes, 2, bytes.length - 4, 7));
  }

  @Test
  void shouldReadBackWhatTheWriterWrites() {
    ParseResult opened = parser.parse(OPENED, 1);
    assertEquals(opened, parser.parse(FeedWriter.toJson((FeedEvent) opened), 1));
    FeedEvent revoked =
        WindowRevoked.endingAt(
            9, "w-9", RevocationKind.PLANNED, Instant.parse("2025-02-01T00:00:00Z"));
    assertEquals(revoked, parser.parse(FeedWriter.toJson(revoked), 1));
  }

  static Stream<Arguments> badLines() {
    return Stream.of(
        bad("{\"type\":\"window.opened\"", null, "must be one JSON object"),
        bad("[1,2]", null, "must be one JSON object"),
        bad("{\"type\":\"heartbeat\",\"seq\":1} {}", null, "must be one JSON object"),
        bad("{\"type\":\"heartbeat\",\"seq\":1,\"seq\":2}", null, "must be one JSON object"),
        bad("{\"seq\":1}", "type", "is required"),
        bad("{\"type\":7,\"seq\":1}", "type", "must be a string"),
        bad("{\"type\":\"window.closed\",\"seq\":1}", "type", "must be one of"),
        bad(
            "{\"type\":\"heartbeat\",\"seq\":1,\"nodes\":3}",
            "nodes",
            "is not a field of heartbeat"),
        bad(OPENED.replace("\"noticeSeconds\"", "\"notice\""), "notice", "is not a field"),
        bad("{\"type\":\"heartbeat\"}", "seq", "is required"),
        bad("{\"type\":\"heartbeat\",\"seq\":0}", "seq", "must be > 0"),
        bad("{\"type\":\"heartbeat\",\"seq\":-5}", "seq", "must be > 0"),
        bad("{\"type\":\"heartbeat\",\"seq\":\"5\"}", "seq", "must be an integer"),
        bad("{\"type\":\"heartbeat\",\"seq\":1.5}", "seq", "must be an integer"),
        bad("{\"type\":\"heartbeat\",\"seq\":99999999999999999999}", "seq", "must be an integer"),
        bad("{\"type\":\"heartbeat\",\"seq\":1,\"at\":\"yesterday\"}", "at", "ISO-8601"),
        bad(OPENED.replace("\"windowId\":\"ash-h100-a.w17\",", ""), "windowId", "is required"),
        bad(OPENED.replace("ash-h100-a.w17", "has space"), "windowId", "must be 1-64"),
        bad(OPENED.replace("ash-h100-a.w17", "w".repeat(65)), "windowId", "must be 1-64"),
        bad(OPENED.replace("\"H100-SXM-80GB\"", "\"h\""), "gpuModel", "must be 2-40"),
        bad(OPENED.replace("\"pool\":\"ash-h100-a\"", "\"pool\":\"\""), "pool", "must be 1-64"),
        bad(OPENED.replace("\"us-east\"", "null"), "region", "must be a string"),
        bad(OPENED.replace("\"nodes\":96", "\"nodes\":0"), "nodes", "must be > 0"),
        bad(OPENED.replace("\"nodes\":96", "\"nodes\":-3"), "nodes", "must be > 0"),
        bad(OPENED.replace("\"nodes\":96", "\"nodes\":\"96\""), "nodes", "must be an integer"),
        bad(OPENED.replace("\"nodes\":96", "\"nodes\":96.5"), "nodes", "must be an integer"),
        bad(OPENED.replace("\"nodes\":96", "\"nodes\":16385"), "nodes", "must be at most 16384"),
        bad(OPENED.replace("\"nodes\":96", "\"nodes\":4294967296"), "nodes", "is too large"),
        bad(OPENED.replace("\"gpusPerNode\":8", "\"gpusPerNode\":0"), "gpusPerNode", "must be > 0"),
        bad(OPENED.replace("2025-01-06T10:00:00Z", "2025-01-06 10:00"), "start", "ISO-8601"),
        bad(OPENED.replace("13:30:00Z", "10:00:00Z"), "end", "must be after start"),
        bad(OPENED.replace("13:30:00Z", "09:00:00Z"), "end", "must be after start"),
        bad(OPENED.replace("\"1.40\"", "1.40"), "reservePrice", "must be a plain decimal string"),
        bad(OPENED.replace("\"1.40\"", "\"1.4000001\""), "reservePrice", "at most 6 decimals"),
        bad(OPENED.replace("\"1.40\"", "\"0.00\""), "reservePrice", "must be > 0"),
        bad(OPENED.replace("\"1.40\"", "\"-1.40\""), "reservePrice", "plain decimal"),
        bad(OPENED.replace("\"1.40\"", "\"1e3\""), "reservePrice", "plain decimal"),
        bad(OPENED.replace("\"1.40\"", "\"1000.01\""), "reservePrice", "at most 1000.00"),
        bad(OPENED.replace("\"1.40\"", "\"99999999999999999999\""), "reservePrice", "at most"),
        bad(
            OPENED.replace("\"noticeSeconds\":900", "\"noticeSeconds\":-1"),
            "noticeSeconds",
            ">= 0"),
        bad(OPENED.replace("\"0.95\"", "\"1.01\""), "confidence", "between 0 and 1"),
        bad(OPENED.replace("\"0.95\"", "0.95"), "confidence", "plain decimal"),
        bad(OPENED.replace("\"0.95\"", "\"0.1234567\""), "confidence", "at most 6 decimals"),
        bad(
            revoked("\"kind\":\"soon\",\"at\":\"2025-01-06T12:00:00Z\",\"nodes\":1"),
            "kind",
            "\"planned\" or \"emergency\""),
        bad(revoked("\"kind\":\"planned\",\"nodes\":1"), "at", "is required"),
        bad(
            revoked("\"kind\":\"planned\",\"at\":\"2025-01-06T12:00:00Z\""),
            "nodes",
            "unless end is given"),
        bad(
            revoked(
                "\"kind\":\"planned\",\"at\":\"2025-01-06T12:00:00Z\",\"nodes\":1,\"end\":\"2025-01-06T12:00:00Z\""),
            "end",
            "must not be given together with nodes"),
        bad(
            revoked("\"kind\":\"planned\",\"at\":\"2025-01-06T12:00:00Z\",\"nodes\":0"),
            "nodes",
            "must be > 0"),
        bad(
            revoked(
                "\"kind\":\"planned\",\"at\":\"2025-01-06T12:00:00Z\",\"end\":\"2025-01-06T13:00:00Z\""),
            "end",
            "must equal at"),
        bad("{\"type\":\"window.extended\",\"seq\":3,\"windowId\":\"w1\"}", "end", "is required"));
  }

  private static String revoked(String rest) {
    return "{\"type\":\"window.revoked\",\"seq\":5,\"windowId\":\"w1\"," + rest + "}";
  }

  private static Arguments bad(String line, String field, String ruleFragment) {
    return Arguments.of(line, field, ruleFragment);
  }

  @ParameterizedTest
  @MethodSource("badLines")
  void shouldRejectABadLineNamingTheFieldAndTheRule(String line, String field, String rule) {
    FeedError error = assertInstanceOf(FeedError.class, parser.parse(line, 12));
    assertEquals(12, error.line());
    assertEquals(field, error.field(), () -> "field for " + line + " -> " + error);
    assertTrue(error.rule().contains(rule), () -> "rule for " + line + " -> " + error);
  }

  @Test
  void shouldRejectALineOverSixteenKibibytesAsAWhole() {
    String padded =
        "{\"type\":\"heartbeat\",\"seq\":1}" + " ".repeat(FeedRules.MAX_LINE_BYTES - 27);
    assertEquals(FeedRules.MAX_LINE_BYTES + 1, padded.length());
    FeedError error = assertInstanceOf(FeedError.class, parser.parse(padded, 3));
    assertNull(error.field());
    assertTrue(error.rule().contains("16384 bytes"));
    byte[] bytes = padded.getBytes(StandardCharsets.UTF_8);
    assertEquals(error, parser.parse(bytes, 3));
    String exactlyMax = padded.substring(0, padded.length() - 1);
    assertInstanceOf(Heartbeat.class, parser.parse(exactlyMax, 3));
  }

  @Test
  void shouldCountALineInUtf8BytesNotInCharacters() {
    // 6,000 three-byte characters: 18,000 bytes in 6,000 chars.
    String line = "{\"type\":\"heartbeat\",\"seq\":1,\"at\":\"" + "€".repeat(6000) + "\"}";
    FeedError error = assertInstanceOf(FeedError.class, parser.parse(line, 1));
    assertNull(error.field());
  }

  @Test
  void shouldRejectInvalidUtf8AsMalformed() {
    byte[] bytes =
        "{\"type\":\"heartbeat\",\"seq\":1,\"at\":\"\u00ff\"}"
            .getBytes(StandardCharsets.ISO_8859_1);
    FeedError error = assertInstanceOf(FeedError.class, parser.parse(bytes, 1));
    assertNull(error.field());
  }
}
