package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.ApiKeys;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;

/**
 * API keys are checked against the key index before any entity: a key naming an account that does
 * not exist gets the very 401 a wrong secret for a real account gets, and starts no entity; keys
 * made by {@code POST /v1/accounts} work at once, and keys of accounts made before the index are
 * indexed at start.
 */
class ApiKeyTest {

  static final String SECRET = "0123456789abcdefghijABCDEFGHIJxy";

  /** The ids of the account entities running on this node. */
  static Set<String> runningAccounts(TestService service) {
    ShardRegion.CurrentShardRegionState state =
        AskPattern
            .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
                ShardRegion.CurrentShardRegionState>
                ask(
                    ClusterSharding.get(service.system()).shardState(),
                    replyTo -> new GetShardRegionState(Account.ENTITY_KEY, replyTo),
                    TestService.WAIT,
                    service.system().scheduler())
            .toCompletableFuture()
            .join();
    Set<String> ids = new HashSet<>();
    for (ShardRegion.ShardState s : state.getShards()) {
      ids.addAll(s.getEntityIds());
    }
    return ids;
  }

  @Test
  void shouldAnswerAKeyOfAnUnknownAccountAsAWrongSecretWithoutStartingAnEntity() {
    TestService service = TestService.start("keys" + System.nanoTime() % 1_000_000);
    try {
      String known = service.account(81, Role.BIDDER, 1_000_000_000L);
      assertEquals(200, service.get("/v1/account", known).status());
      assertTrue(runningAccounts(service).contains("81"), "a used account runs");

      TestService.Reply wrongSecret = service.get("/v1/account", "sk_81_" + SECRET);
      TestService.Reply unknownAccount = service.get("/v1/account", "sk_999999_" + SECRET);
      assertEquals(401, wrongSecret.status(), wrongSecret.body());
      assertEquals(wrongSecret.status(), unknownAccount.status());
      assertEquals(wrongSecret.body(), unknownAccount.body(), "one document for both");
      assertEquals(wrongSecret.header("Content-Type"), unknownAccount.header("Content-Type"));
      // and the same on a route of another role, and on the stream's token route
      assertEquals(
          service.post("/v1/stream/tokens", "sk_81_" + SECRET, null, null).body(),
          service.post("/v1/stream/tokens", "sk_999998_" + SECRET, null, null).body());

      Set<String> running = runningAccounts(service);
      assertFalse(running.contains("999999"), "no entity for an unknown account: " + running);
      assertFalse(running.contains("999998"), "no entity for an unknown account: " + running);
    } finally {
      service.close();
    }
  }

  @Test
  void shouldTakeKeysFromAccountCreationAtOnceAndIndexOlderAccountsAtStart() {
    TestService service = TestService.start("keyb" + System.nanoTime() % 1_000_000);
    try {
      String admin = service.account(82, Role.ADMIN, 0);
      TestService.Reply created =
          service.post(
              "/v1/accounts",
              admin,
              "new-bidder",
              "{\"role\":\"bidder\",\"name\":\"new\",\"creditLimit\":\"10.00\"}");
      assertEquals(201, created.status(), created.body());
      String fresh = created.json().get("apiKey").asText();
      assertEquals(200, service.get("/v1/account", fresh).status());

      // an account made as before the index: straight through its entity, its key not indexed
      String old = ApiKeys.generate(83);
      Account.Created c =
          ClusterSharding.get(service.system())
              .entityRefFor(Account.ENTITY_KEY, "83")
              .<Account.Created>ask(
                  r ->
                      new Account.CreateAccount(
                          Role.BIDDER, "old", 1_000_000L, ApiKeys.hash(old), Long.MAX_VALUE, r),
                  TestService.WAIT)
              .toCompletableFuture()
              .join();
      assertTrue(c.created());
      assertEquals(401, service.get("/v1/account", old).status(), "not in the index yet");

      service.restart();
      TestService.await(() -> service.get("/v1/account", old), r -> r.status() == 200);
      assertEquals(200, service.get("/v1/account", fresh).status());
    } finally {
      service.close();
    }
  }
}
