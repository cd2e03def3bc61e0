package io.surplus.feed.protocol;

import static io.surplus.feed.protocol.FeedRules.require;

import java.time.Instant;
import java.util.Objects;

/**
 * {@code window.extended}: the window now lasts until {@code end}. Whether {@code end} is later
 * than the window's current end is the service's check: it needs the window.
 */
public record WindowExtended(long seq, String windowId, Instant end) implements FeedEvent {

  public WindowExtended {
    require("seq", FeedRules.seq(seq));
    require("windowId", FeedRules.name(windowId));
    Objects.requireNonNull(end, "end");
  }

  @Override
  public String type() {
    return WINDOW_EXTENDED;
  }
}
