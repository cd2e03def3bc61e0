package io.surplus.market.accounts;

import io.surplus.market.CborSerializable;
import io.surplus.market.http.Role;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Who an account is: whether it exists, its id, role and name, its credit limit, and the hashes of
 * its API keys (never the keys). Changed by {@link Account.AccountCreated} only; mutated in place
 * by the account's event handler.
 */
final class AccountIdentity {

  boolean exists;
  long id;
  Role role;
  String name;
  long creditLimit;
  final Set<String> keyHashes = new HashSet<>();

  void apply(Account.IdentityEvent event) {
    Account.AccountCreated e = (Account.AccountCreated) event; // its only event
    exists = true;
    id = e.id();
    role = e.role();
    name = e.name();
    creditLimit = e.creditLimit();
    keyHashes.add(e.keyHash());
  }

  /** Whether {@code keyHash} is one of this existing account's keys. */
  boolean holdsKey(String keyHash) {
    return exists && keyHashes.contains(keyHash);
  }

  /** The identity as its snapshot keeps it. */
  record Snapshot(
      boolean exists, long id, Role role, String name, long creditLimit, List<String> keyHashes)
      implements CborSerializable {}

  Snapshot snapshot() {
    return new Snapshot(exists, id, role, name, creditLimit, List.copyOf(keyHashes));
  }

  static AccountIdentity of(Snapshot s) {
    AccountIdentity i = new AccountIdentity();
    i.exists = s.exists();
    i.id = s.id();
    i.role = s.role();
    i.name = s.name();
    i.creditLimit = s.creditLimit();
    i.keyHashes.addAll(s.keyHashes());
    return i;
  }
}
