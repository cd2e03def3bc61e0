package io.surplus.market.accounts;

import io.surplus.market.CborSerializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A provider's side of an account: the ids its windows were given, by the idempotency key of their
 * offer (so a retried offer gets the same id), and the last sequence number of its capacity feed
 * applied. Changed by {@link Account.WindowIdReserved} and {@link Account.FeedAdvanced} only.
 */
final class ProviderFeed {

  /** Window idempotency keys: key to {window id, request hash}. */
  final Map<String, Account.WindowIdReserved> windowKeys = new HashMap<>();

  /** The last feed sequence number applied for this provider. */
  long feedSeq;

  void apply(Account.FeedEvent event) {
    if (event instanceof Account.WindowIdReserved e) {
      windowKeys.put(e.idempotencyKey(), e);
    } else if (event instanceof Account.FeedAdvanced e) {
      feedSeq = Math.max(feedSeq, e.seq());
    }
  }

  /** The provider's side as its snapshot keeps it. */
  record Snapshot(List<Account.WindowIdReserved> windowKeys, long feedSeq)
      implements CborSerializable {}

  Snapshot snapshot() {
    return new Snapshot(List.copyOf(windowKeys.values()), feedSeq);
  }

  static ProviderFeed of(Snapshot s) {
    ProviderFeed f = new ProviderFeed();
    s.windowKeys().forEach(w -> f.windowKeys.put(w.idempotencyKey(), w));
    f.feedSeq = s.feedSeq();
    return f;
  }
}
