package io.surplus.feed.protocol;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.surplus.engine.GpuModel;
import io.surplus.engine.Instants;
import io.surplus.engine.RevocationKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Turns one NDJSON line into a {@link FeedEvent} or a {@link FeedError}. It never throws for bad
 * input: malformed JSON, a line over {@link FeedRules#MAX_LINE_BYTES}, an unknown {@code type},
 * unknown, missing or mistyped fields, non-positive quantities, prices with more than six decimals
 * and {@code end <= start} all come back as a {@code FeedError} naming the JSON field and the rule;
 * the first broken rule of a line is the one reported. Rules that need the clock or the provider's
 * state are the service's (see {@link FeedRules}). Thread-safe and stateless.
 */
public final class FeedParser {

  /** Fields each type accepts, in the order they are checked and written. */
  static final Map<String, List<String>> FIELDS =
      Map.of(
          FeedEvent.WINDOW_OPENED,
          List.of(
              "type",
              "seq",
              "windowId",
              "gpuModel",
              "pool",
              "region",
              "nodes",
              "gpusPerNode",
              "start",
              "end",
              "reservePrice",
              "noticeSeconds",
              "confidence"),
          FeedEvent.WINDOW_EXTENDED,
          List.of("type", "seq", "windowId", "end"),
          FeedEvent.WINDOW_REVOKED,
          List.of("type", "seq", "windowId", "kind", "at", "nodes", "end"),
          FeedEvent.HEARTBEAT,
          List.of("type", "seq", "at"));

  private static final String TYPES =
      String.join(
          ", ",
          FeedEvent.WINDOW_OPENED,
          FeedEvent.WINDOW_EXTENDED,
          FeedEvent.WINDOW_REVOKED,
          FeedEvent.HEARTBEAT);

  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /** Parses {@code line}, the {@code lineNumber}-th line of a body (1-based). */
  public ParseResult parse(String line, long lineNumber) {
    checkLineNumber(lineNumber);
    if (line == null || utf8Length(line) > FeedRules.MAX_LINE_BYTES) {
      return tooLong(lineNumber);
    }
    try {
      return parseTree(MAPPER.readTree(line), lineNumber);
    } catch (JacksonException e) {
      return malformed(e, lineNumber);
    }
  }

  /** Parses the UTF-8 bytes of one line. */
  public ParseResult parse(byte[] line, long lineNumber) {
    return parse(line, 0, line.length, lineNumber);
  }

  /** Parses {@code length} UTF-8 bytes of one line starting at {@code offset}. */
  public ParseResult parse(byte[] bytes, int offset, int length, long lineNumber) {
    checkLineNumber(lineNumber);
    if (length > FeedRules.MAX_LINE_BYTES) {
      return tooLong(lineNumber);
    }
    try {
      return parseTree(MAPPER.readTree(bytes, offset, length), lineNumber);
    } catch (JacksonException e) {
      return malformed(e, lineNumber);
    } catch (IOException e) {
      // Reading from a byte array does no I/O; Jackson only declares it.
      return malformed(e, lineNumber);
    }
  }

  /** The rule a line longer than {@link FeedRules#MAX_LINE_BYTES} breaks. */
  public static FeedError tooLong(long lineNumber) {
    return new FeedError(
        lineNumber, null, "must be at most " + FeedRules.MAX_LINE_BYTES + " bytes long");
  }

  private static void checkLineNumber(long lineNumber) {
    if (lineNumber <= 0) {
      throw new IllegalArgumentException("lineNumber must be > 0: lineNumber=" + lineNumber);
    }
  }

  private static FeedError malformed(Exception e, long lineNumber) {
    String detail =
        e instanceof JacksonException j && j.getOriginalMessage() != null
            ? j.getOriginalMessage()
            : e.getClass().getSimpleName();
    if (detail.length() > 160) {
      detail = detail.substring(0, 160) + "...";
    }
    return new FeedError(lineNumber, null, "must be one JSON object (" + detail + ")");
  }

  private static ParseResult parseTree(JsonNode tree, long lineNumber) {
    if (tree == null || !tree.isObject()) {
      return new FeedError(lineNumber, null, "must be one JSON object");
    }
    try {
      return new Reader(tree, lineNumber).event();
    } catch (Rejected r) {
      return r.error;
    }
  }

  private static int utf8Length(String s) {
    if (s.length() * 3L <= FeedRules.MAX_LINE_BYTES) {
      return s.length();
    }
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  /**
   * Unwinds {@link Reader} at the first broken rule. It carries no stack trace, so rejecting a line
   * costs about as much as returning a code, and keeps the field readers short.
   */
  private static final class Rejected extends RuntimeException {
    final FeedError error;

    Rejected(FeedError error) {
      super(error.rule(), null, false, false);
      this.error = error;
    }
  }

  /** Reads the fields of one JSON object, rejecting at the first broken rule. */
  private static final class Reader {
    private final JsonNode tree;
    private final long line;

    Reader(JsonNode tree, long line) {
      this.tree = tree;
      this.line = line;
    }

    FeedEvent event() {
      JsonNode typeNode = tree.get("type");
      if (typeNode == null) {
        throw reject("type", "is required");
      }
      if (!typeNode.isTextual()) {
        throw reject("type", "must be a string");
      }
      String type = typeNode.textValue();
      List<String> allowed = FIELDS.get(type);
      if (allowed == null) {
        throw reject("type", "must be one of " + TYPES);
      }
      for (Iterator<String> names = tree.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!allowed.contains(name)) {
          throw reject(name, "is not a field of " + type);
        }
      }
      long seq = seq();
      return switch (type) {
        case FeedEvent.WINDOW_OPENED -> opened(seq);
        case FeedEvent.WINDOW_EXTENDED -> new WindowExtended(seq, name("windowId"), instant("end"));
        case FeedEvent.WINDOW_REVOKED -> revoked(seq);
        default -> new Heartbeat(seq, has("at") ? Optional.of(instant("at")) : Optional.empty());
      };
    }

    private WindowOpened opened(long seq) {
      String windowId = name("windowId");
      GpuModel gpuModel = gpuModel();
      String pool = name("pool");
      String region = check("region", FeedRules.region(text("region")), text("region"));
      int nodes = positiveInt("nodes", FeedRules.MAX_NODES);
      int gpusPerNode =
          has("gpusPerNode")
              ? positiveInt("gpusPerNode", FeedRules.MAX_GPUS_PER_NODE)
              : FeedRules.DEFAULT_GPUS_PER_NODE;
      Instant start = instant("start");
      Instant end = instant("end");
      check("end", FeedRules.after(start, end), end);
      String price = decimal("reservePrice");
      check("reservePrice", FeedRules.price(price), price);
      int notice = integer("noticeSeconds");
      check("noticeSeconds", FeedRules.notice(notice), notice);
      OptionalInt confidence = OptionalInt.empty();
      if (has("confidence")) {
        String text = decimal("confidence");
        check("confidence", FeedRules.confidence(text), text);
        confidence = OptionalInt.of(FeedRules.confidencePpm(text));
      }
      return new WindowOpened(
          seq,
          windowId,
          gpuModel,
          pool,
          region,
          nodes,
          gpusPerNode,
          start,
          end,
          io.surplus.engine.Price.parse(price),
          notice,
          confidence);
    }

    private WindowRevoked revoked(long seq) {
      String windowId = name("windowId");
      String kindText = text("kind");
      RevocationKind kind =
          switch (kindText) {
            case "planned" -> RevocationKind.PLANNED;
            case "emergency" -> RevocationKind.EMERGENCY;
            default -> throw reject("kind", "must be \"planned\" or \"emergency\"");
          };
      Instant at = instant("at");
      boolean byNodes = has("nodes");
      boolean byEnd = has("end");
      if (byNodes && byEnd) {
        throw reject("end", "must not be given together with nodes: give exactly one");
      }
      if (!byNodes && !byEnd) {
        throw reject("nodes", "is required unless end is given: give exactly one");
      }
      if (byNodes) {
        return WindowRevoked.nodes(
            seq, windowId, kind, at, positiveInt("nodes", FeedRules.MAX_NODES));
      }
      Instant end = instant("end");
      if (!end.equals(at)) {
        throw reject("end", "must equal at: the nodes go when the window ends");
      }
      return WindowRevoked.endingAt(seq, windowId, kind, end);
    }

    private long seq() {
      JsonNode node = required("seq");
      if (!node.isIntegralNumber() || !node.canConvertToLong()) {
        throw reject("seq", "must be an integer between 1 and " + Long.MAX_VALUE);
      }
      return check("seq", FeedRules.seq(node.longValue()), node.longValue());
    }

    private GpuModel gpuModel() {
      String text = text("gpuModel");
      try {
        return new GpuModel(text);
      } catch (IllegalArgumentException e) {
        throw reject(
            "gpuModel", "must be 2-40 letters, digits or '-', starting with a capital or digit");
      }
    }

    private String name(String field) {
      String text = text(field);
      return check(field, FeedRules.name(text), text);
    }

    private int positiveInt(String field, int max) {
      int value = integer(field);
      return check(field, FeedRules.positive(value, max), value);
    }

    private int integer(String field) {
      JsonNode node = required(field);
      if (!node.isIntegralNumber()) {
        throw reject(field, "must be an integer");
      }
      if (!node.canConvertToInt()) {
        // Out of int range either way; say which side.
        throw reject(field, node.bigIntegerValue().signum() > 0 ? "is too large" : "must be > 0");
      }
      return node.intValue();
    }

    private Instant instant(String field) {
      Instant instant = Instants.parse(text(field));
      if (instant == null) {
        throw reject(
            field,
            "must be an ISO-8601 instant with a four-digit year such as \"2025-01-06T00:00:00Z\"");
      }
      return instant;
    }

    /** Money and probabilities travel as strings, so that no JSON reader rounds them. */
    private String decimal(String field) {
      JsonNode node = required(field);
      if (!node.isTextual()) {
        throw reject(field, "must be a plain decimal string such as \"2.45\", not a JSON number");
      }
      return node.textValue();
    }

    private String text(String field) {
      JsonNode node = required(field);
      if (!node.isTextual()) {
        throw reject(field, "must be a string");
      }
      return node.textValue();
    }

    private JsonNode required(String field) {
      JsonNode node = tree.get(field);
      if (node == null) {
        throw reject(field, "is required");
      }
      return node;
    }

    private boolean has(String field) {
      return tree.has(field);
    }

    private <T> T check(String field, String brokenRule, T value) {
      if (brokenRule != null) {
        throw reject(field, brokenRule);
      }
      return value;
    }

    private Rejected reject(String field, String rule) {
      return new Rejected(new FeedError(line, field, rule));
    }
  }
}
