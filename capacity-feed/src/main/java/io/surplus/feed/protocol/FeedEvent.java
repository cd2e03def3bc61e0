package io.surplus.feed.protocol;

/**
 * One capacity-feed event: one JSON object on one NDJSON line. Every event carries the provider's
 * sequence number {@code seq}, positive and strictly increasing per provider. An instance is always
 * complete and valid: the records check the protocol's rules in their constructors.
 */
public sealed interface FeedEvent extends ParseResult
    permits WindowOpened, WindowExtended, WindowRevoked, Heartbeat {

  String WINDOW_OPENED = "window.opened";
  String WINDOW_EXTENDED = "window.extended";
  String WINDOW_REVOKED = "window.revoked";
  String HEARTBEAT = "heartbeat";

  /** The provider's sequence number. */
  long seq();

  /** The JSON {@code type} of this event, e.g. {@value #WINDOW_OPENED}. */
  String type();
}
