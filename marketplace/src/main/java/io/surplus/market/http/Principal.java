package io.surplus.market.http;

import io.surplus.market.CborSerializable;

/** Who a key belongs to; {@code role} is null when the key is unknown. */
public record Principal(long account, Role role) implements CborSerializable {
  public boolean known() {
    return role != null;
  }
}
