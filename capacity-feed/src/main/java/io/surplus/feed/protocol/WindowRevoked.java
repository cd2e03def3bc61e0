package io.surplus.feed.protocol;

import static io.surplus.feed.protocol.FeedRules.require;

import io.surplus.engine.RevocationKind;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * {@code window.revoked}: the provider takes capacity back at {@code at}, in one of two forms,
 * exactly one of which is present:
 *
 * <ul>
 *   <li>{@code nodes}: that many nodes leave the window from {@code at}; the rest keep its end;
 *   <li>{@code end}: the whole window now ends at {@code end}. The nodes go when the window ends,
 *       so {@code end} must equal {@code at}; a line where they differ is refused.
 * </ul>
 *
 * <p>A {@link RevocationKind#PLANNED} revocation must reach the service at least the window's
 * {@code noticeSeconds} before {@code at}; an {@link RevocationKind#EMERGENCY} one need not.
 */
public record WindowRevoked(
    long seq,
    String windowId,
    RevocationKind kind,
    Instant at,
    OptionalInt nodes,
    Optional<Instant> end)
    implements FeedEvent {

  public WindowRevoked {
    require("seq", FeedRules.seq(seq));
    require("windowId", FeedRules.name(windowId));
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(nodes, "nodes");
    Objects.requireNonNull(end, "end");
    if (nodes.isPresent() == end.isPresent()) {
      throw new IllegalArgumentException(
          "exactly one of nodes and end must be given: nodes=" + nodes + ", end=" + end);
    }
    if (nodes.isPresent()) {
      require("nodes", FeedRules.positive(nodes.getAsInt(), FeedRules.MAX_NODES));
    }
    if (end.isPresent() && !end.get().equals(at)) {
      throw new IllegalArgumentException("end must equal at: at=" + at + ", end=" + end.get());
    }
  }

  /** {@code count} nodes leave the window from {@code at}. */
  public static WindowRevoked nodes(
      long seq, String windowId, RevocationKind kind, Instant at, int count) {
    return new WindowRevoked(seq, windowId, kind, at, OptionalInt.of(count), Optional.empty());
  }

  /** The whole window ends at {@code end}, earlier than announced. */
  public static WindowRevoked endingAt(
      long seq, String windowId, RevocationKind kind, Instant end) {
    return new WindowRevoked(seq, windowId, kind, end, OptionalInt.empty(), Optional.of(end));
  }

  @Override
  public String type() {
    return WINDOW_REVOKED;
  }
}
