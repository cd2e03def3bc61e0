package io.surplus.feed.ingest;

import io.surplus.feed.protocol.FeedParser;
import io.surplus.feed.protocol.FeedRules;
import java.util.Optional;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Framing;
import org.apache.pekko.stream.javadsl.FramingTruncation;
import org.apache.pekko.util.ByteString;

/**
 * The feed's ingestion stage: NDJSON bytes in, one {@link ParsedLine} out per non-blank line.
 *
 * <ul>
 *   <li>Lines end with {@code \n}; a {@code \r} before it is dropped; the last line may lack the
 *       {@code \n}.
 *   <li>Blank lines (empty or only spaces, tabs and {@code \r}) are skipped but counted, so line
 *       numbers match what the provider's editor shows.
 *   <li>A line longer than {@link FeedRules#MAX_LINE_BYTES} comes out as a {@code FeedError} for
 *       that line, and then the stage completes: it cannot find where the next line starts without
 *       buffering an unbounded line, and nothing after an error is applied anyway.
 *   <li>Every other line comes out, valid or not; {@link SequenceGate} decides what to apply.
 * </ul>
 *
 * <p>It holds at most one line plus one incoming chunk, so back-pressure reaches the body's source
 * and a large body is never held whole.
 */
public final class FeedFlow {

  private static final ByteString NEWLINE = ByteString.fromString("\n");

  private FeedFlow() {}

  /** NDJSON framing and parsing with a fresh {@link FeedParser}. */
  public static Flow<ByteString, ParsedLine, NotUsed> create() {
    return create(new FeedParser());
  }

  public static Flow<ByteString, ParsedLine, NotUsed> create(FeedParser parser) {
    return Flow.<ByteString>create()
        // One byte of slack for a '\r' before the '\n'; the parser measures the line without it.
        .via(Framing.delimiter(NEWLINE, FeedRules.MAX_LINE_BYTES + 1, FramingTruncation.ALLOW))
        .map(Optional::of)
        // An empty Optional marks the over-long line that made the framing fail.
        .recover(org.apache.pekko.stream.scaladsl.Framing.FramingException.class, Optional::empty)
        .zipWithIndex()
        .filter(p -> p.first().map(f -> !isBlank(f)).orElse(true))
        .map(
            p -> {
              long line = p.second() + 1;
              if (p.first().isEmpty()) {
                return new ParsedLine(line, FeedParser.tooLong(line));
              }
              ByteString frame = withoutCarriageReturn(p.first().get());
              return new ParsedLine(line, parser.parse(frame.toArrayUnsafe(), line));
            });
  }

  private static ByteString withoutCarriageReturn(ByteString frame) {
    int n = frame.length();
    return n > 0 && frame.apply(n - 1) == '\r' ? frame.slice(0, n - 1) : frame;
  }

  private static boolean isBlank(ByteString frame) {
    for (int i = 0; i < frame.length(); i++) {
      byte b = frame.apply(i);
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }
}
