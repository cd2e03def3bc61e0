package io.surplus.market;

/**
 * Marker for messages, events and snapshots that cross the wire or reach the journal: bound to
 * Jackson CBOR in {@code application.conf}.
 */
public interface CborSerializable {}
