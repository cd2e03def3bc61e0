package io.surplus.feed.protocol;

import static io.surplus.feed.protocol.FeedRules.require;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code heartbeat}: the provider is alive and has nothing else to say; it still takes a sequence
 * number, so a provider's stream of sequence numbers has no holes.
 *
 * @param at the provider's clock when it sent the heartbeat, if it says
 */
public record Heartbeat(long seq, Optional<Instant> at) implements FeedEvent {

  public Heartbeat {
    require("seq", FeedRules.seq(seq));
    Objects.requireNonNull(at, "at");
  }

  @Override
  public String type() {
    return HEARTBEAT;
  }
}
