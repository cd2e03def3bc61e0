package io.surplus.market.http;

/** What an API key may do: bid, offer capacity, or run the marketplace. */
public enum Role {
  BIDDER,
  PROVIDER,
  ADMIN
}
