package io.surplus.feed.ingest;

import io.surplus.feed.protocol.FeedError;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.ParseResult;
import java.util.Objects;
import java.util.Optional;

/**
 * One non-blank line of a feed body: its 1-based line number (blank lines count) and what it parsed
 * to, either a {@link FeedEvent} or a {@link FeedError}.
 */
public record ParsedLine(long line, ParseResult result) {

  public ParsedLine {
    if (line <= 0) {
      throw new IllegalArgumentException("line must be > 0: line=" + line);
    }
    Objects.requireNonNull(result, "result");
  }

  public Optional<FeedEvent> event() {
    return result instanceof FeedEvent e ? Optional.of(e) : Optional.empty();
  }

  public Optional<FeedError> error() {
    return result instanceof FeedError e ? Optional.of(e) : Optional.empty();
  }
}
