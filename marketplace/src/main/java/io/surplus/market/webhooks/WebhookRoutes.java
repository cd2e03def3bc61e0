package io.surplus.market.webhooks;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.surplus.market.accounts.Account;
import io.surplus.market.http.Api;
import io.surplus.market.http.Api.Call;
import io.surplus.market.http.Api.Endpoint;
import io.surplus.market.http.Json;
import io.surplus.market.http.Problem;
import io.surplus.market.http.Role;
import io.surplus.market.settings.Settings;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * A bidder's webhook for preemption notices: {@code PUT /v1/webhook} sets its URL (if the {@link
 * EgressPolicy} allows it, else {@code 422} naming the rule) and answers a new signing secret
 * (shown once), {@code GET} shows the URL, {@code DELETE} removes it, and {@code GET
 * /v1/webhook/deliveries} lists this month's delivery attempts, newest first.
 */
public final class WebhookRoutes {

  public record WebhookRequest(String url) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record WebhookReply(String url, String secret) {}

  private static final SecureRandom RANDOM = new SecureRandom();

  private final ClusterSharding sharding;
  private final Duration timeout;
  private final WebhookSender sender;
  private final EgressPolicy policy;
  private final Executor blocking;

  public WebhookRoutes(
      ActorSystem<?> system, Settings settings, WebhookSender sender, EgressPolicy policy) {
    this.sharding = ClusterSharding.get(system);
    this.timeout = settings.askTimeout();
    this.sender = sender;
    this.policy = policy;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  public List<Endpoint> endpoints() {
    Set<Role> bidder = Set.of(Role.BIDDER);
    return List.of(
        Endpoint.of("PUT", "/v1/webhook", bidder, this::set),
        Endpoint.of("GET", "/v1/webhook", bidder, this::show),
        Endpoint.of("DELETE", "/v1/webhook", bidder, this::remove),
        Endpoint.of("GET", "/v1/webhook/deliveries", bidder, this::deliveries));
  }

  private EntityRef<Account.Command> account(Call call) {
    return sharding.entityRefFor(Account.ENTITY_KEY, Long.toString(call.principal().account()));
  }

  private CompletionStage<HttpResponse> set(Call call) {
    WebhookRequest body = Json.read(call.body(), WebhookRequest.class);
    if (body.url() == null) {
      throw Problem.missing("url").failure();
    }
    // resolving blocks: off the request's thread
    return CompletableFuture.supplyAsync(() -> policy.check(body.url()), blocking)
        .thenCompose(
            v -> {
              if (!v.allowed()) {
                throw egressRefused(v);
              }
              byte[] raw = new byte[24];
              RANDOM.nextBytes(raw);
              String secret = "whsec_" + HexFormat.of().formatHex(raw);
              return account(call)
                  .<Done>ask(r -> new Account.SetWebhook(body.url(), secret, r), timeout)
                  .thenApply(d -> Api.json(200, new WebhookReply(body.url(), secret)));
            });
  }

  /**
   * A 422 naming {@code url} and the policy's rule, and nothing about what the host resolves to.
   */
  private Problem.Failure egressRefused(EgressPolicy.Verdict v) {
    return Problem.of(
            422,
            "webhook-egress-refused",
            "The webhook URL is refused by the egress policy",
            v.detail(policy.settings()) + " (rule: " + v.rule().slug() + ")",
            "url")
        .failure();
  }

  private CompletionStage<HttpResponse> show(Call call) {
    return account(call)
        .<Account.WebhookView>ask(Account.GetWebhook::new, timeout)
        .thenApply(
            v -> {
              if (v.webhook() == null) {
                throw Problem.notFound("no webhook is set").failure();
              }
              return Api.json(200, new WebhookReply(v.webhook().url(), null));
            });
  }

  private CompletionStage<HttpResponse> remove(Call call) {
    return account(call)
        .<Done>ask(r -> new Account.SetWebhook(null, null, r), timeout)
        .thenApply(d -> Api.json(200, Map.of("removed", true)));
  }

  private CompletionStage<HttpResponse> deliveries(Call call) {
    return sender
        .recent(call.principal().account(), 100)
        .thenApply(list -> Api.json(200, Map.of("deliveries", list)));
  }
}
