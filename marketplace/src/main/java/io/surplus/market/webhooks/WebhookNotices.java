package io.surplus.market.webhooks;

import io.surplus.engine.book.Cut;
import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.AccountEpochs;
import io.surplus.market.http.Json;
import io.surplus.market.ids.Ids;
import io.surplus.market.markets.EpochProjections;
import io.surplus.market.markets.Market;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * Turns each revocation into preemption notices for the webhooks of the bidders whose leases it
 * cut: a projection over the tagged events (at least once), one delivery per cut lease, with a
 * stable delivery id ({@code <gpuModel>.<revocation>.<lease>}) so receivers can drop repeats.
 */
public final class WebhookNotices extends Handler<EventEnvelope<Market.Event>> {

  public static final String PROJECTION = "webhook-notices";

  /** The body of a notice. */
  public record Notice(
      String id,
      String type,
      String leaseId,
      String bidId,
      String gpuModel,
      String preemptAt,
      String kind,
      long noticeShortfallSeconds,
      boolean requeued,
      String sentAt) {

    /** The notice of lease cut {@code c} by revocation {@code revocation} of {@code market}. */
    public static Notice of(String market, long revocation, Cut c) {
      return new Notice(
          market + "." + revocation + "." + c.lease().id(),
          "lease.notified",
          Ids.lease(market, c.lease().id()),
          Ids.bid(c.lease().bidId()),
          market,
          Instant.ofEpochMilli(c.preemptAtMillis()).toString(),
          c.kind().name().toLowerCase(Locale.ROOT),
          c.noticeShortfallSeconds(),
          c.requeued(),
          Instant.now().toString());
    }
  }

  /**
   * Revocations whose notices are delivered at once; the projection's offset passes one only once
   * its notices are delivered or given up, so a node lost while it retries a delivery leaves it to
   * the node that runs the projection next, which sends it again (receivers dedupe by delivery id).
   */
  static final int PARALLELISM = 16;

  private final ClusterSharding sharding;
  private final WebhookSender sender;
  private final Duration timeout;

  WebhookNotices(ActorSystem<?> system, WebhookSender sender, Duration timeout) {
    this.sharding = ClusterSharding.get(system);
    this.sender = sender;
    this.timeout = timeout;
  }

  public static void init(ActorSystem<?> system, WebhookSender sender, Duration timeout) {
    WebhookNotices notices = new WebhookNotices(system, sender, timeout);
    EpochProjections.runConcurrently(system, PROJECTION, notices::process, PARALLELISM);
  }

  @Override
  public CompletionStage<Done> process(EventEnvelope<Market.Event> envelope) {
    if (!(envelope.event() instanceof Market.WindowRevoked r) || r.cuts().isEmpty()) {
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    String market = AccountEpochs.marketOf(envelope.persistenceId());
    Map<Long, List<Cut>> byAccount = new TreeMap<>();
    for (Cut c : r.cuts()) {
      byAccount.computeIfAbsent(c.lease().account(), a -> new ArrayList<>()).add(c);
    }
    List<CompletableFuture<Void>> looked = new ArrayList<>();
    byAccount.forEach(
        (account, cuts) -> {
          if (account <= 0 || account >= (1L << 31)) {
            return;
          }
          looked.add(
              sharding
                  .entityRefFor(Account.ENTITY_KEY, Long.toString(account))
                  .<Account.WebhookView>ask(Account.GetWebhook::new, timeout)
                  .thenCompose(
                      view -> {
                        if (view.webhook() == null) {
                          return CompletableFuture.<Void>completedFuture(null);
                        }
                        List<CompletableFuture<Void>> sent = new ArrayList<>();
                        for (Cut c : cuts) {
                          Notice n = Notice.of(market, r.number(), c);
                          sent.add(
                              sender
                                  .send(
                                      new WebhookSender.Delivery(
                                          account,
                                          n.id(),
                                          view.webhook().url(),
                                          view.webhook().secret(),
                                          Json.write(n)))
                                  .toCompletableFuture());
                        }
                        return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
                      })
                  .toCompletableFuture());
        });
    return CompletableFuture.allOf(looked.toArray(CompletableFuture[]::new))
        .thenApply(v -> Done.getInstance());
  }
}
