package io.surplus.market.accounts;

import io.surplus.engine.Price;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.Fields;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.http.Role;
import io.surplus.market.settings.Settings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** The caller's own balance, and account creation by an admin. */
public final class AccountRoutes {

  public record BalanceView(
      long account,
      String role,
      String name,
      String creditLimit,
      String reserved,
      String leased,
      String charged,
      String available,
      String chargedThrough) {

    static BalanceView of(Account.Balance b) {
      return new BalanceView(
          b.account(),
          b.role().name().toLowerCase(Locale.ROOT),
          b.name(),
          Price.format(b.creditLimit()),
          Price.format(b.reserved()),
          Price.format(b.leased()),
          Price.format(b.charged()),
          Price.format(b.available()),
          b.chargedThroughMillis() == 0
              ? null
              : Instant.ofEpochMilli(b.chargedThroughMillis()).toString());
    }
  }

  public record NewAccount(String role, String name, String creditLimit) {}

  public record CreatedAccount(
      long account, String role, String name, String creditLimit, String apiKey) {}

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final KeyIndex keys;

  public AccountRoutes(ActorSystem<?> system, Settings settings, KeyIndex keys) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = settings.askTimeout();
    this.keys = keys;
  }

  public List<Endpoint> endpoints() {
    return List.of(
        Endpoint.of("GET", "/v1/account", Set.of(Role.values()), this::balance),
        Endpoint.of("POST", "/v1/accounts", Set.of(Role.ADMIN), this::create));
  }

  private CompletionStage<HttpResponse> balance(Call call) {
    return sharding
        .entityRefFor(Account.ENTITY_KEY, Long.toString(call.principal().account()))
        .<Account.Balance>ask(Account.GetBalance::new, timeout)
        .thenApply(b -> Api.json(200, BalanceView.of(b)));
  }

  private CompletionStage<HttpResponse> create(Call call) {
    String key = call.idempotencyKey();
    NewAccount body = Json.read(call.body(), NewAccount.class);
    if (body.role() == null) {
      throw Problem.missing("role").failure();
    }
    Role role;
    try {
      role = Role.valueOf(body.role().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw Problem.invalid("role", "role must be bidder, provider or admin").failure();
    }
    if (body.name() == null) {
      throw Problem.missing("name").failure();
    }
    if (body.name().isBlank() || body.name().length() > 100) {
      throw Problem.invalid("name", "name must be 1-100 characters").failure();
    }
    long limit = role == Role.BIDDER ? Fields.amount("creditLimit", body.creditLimit()) : 0;
    // the id follows from the admin and the key, so a retry cannot make a second account
    long id =
        1000
            + (Long.parseLong(
                    ApiKeys.sha256(call.principal().account() + "/" + key).substring(0, 8), 16)
                % ((1L << 31) - 1001));
    String apiKey = ApiKeys.generate(id);
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    // indexed first: once the account exists, its key is found on every node
    return keys.register(ApiKeys.hash(apiKey), id)
        .exceptionally(
            t -> {
              throw new Api.Unavailable("the key index cannot be written", t);
            })
        .thenCompose(
            registered ->
                Account.create(
                    system, id, role, body.name(), limit, ApiKeys.hash(apiKey), deadline, timeout))
        .thenApply(
            c -> {
              if (!c.created()) {
                throw Problem.of(
                        409,
                        "account-exists",
                        "The account exists",
                        "an account was already created with this Idempotency-Key; its key is"
                            + " shown only once",
                        "Idempotency-Key")
                    .failure();
              }
              return Api.json(
                  201,
                  new CreatedAccount(
                      id,
                      role.name().toLowerCase(Locale.ROOT),
                      body.name(),
                      Price.format(limit),
                      apiKey));
            });
  }
}
