package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.PopulationBuilder;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;

/**
 * Providers streaming windows, extensions and revocations to {@code POST /v1/feed} at a constant
 * arrival rate of {@code rate} events per second, {@code chunk} events per request. A provider's
 * requests must apply in order, so each arrival takes an idle provider from the pool and gives it
 * back when its request is answered; an arrival that finds none idle counts as dropped (the service
 * fell behind) and fails the run.
 */
public final class FeedScenarios {

  private final ConcurrentLinkedQueue<ProviderFeed> idle = new ConcurrentLinkedQueue<>();
  private final Throughput events = new Throughput();
  private final LongAdder dropped = new LongAdder();
  private final int chunk;

  public FeedScenarios(List<ProviderFeed> providers, int chunk) {
    idle.addAll(providers);
    this.chunk = chunk;
  }

  public PopulationBuilder feed(double eventsPerSecond, int seconds, int startAfterSeconds) {
    return scenario("providers")
        .exec(
            s -> {
              ProviderFeed p = idle.poll();
              if (p == null) {
                dropped.increment();
                return s.markAsFailed();
              }
              return s.set("provider", p)
                  .set("auth", "Bearer " + p.key())
                  .set("lines", p.chunk(chunk));
            })
        .doIf(s -> s.contains("provider"))
        .then(
            exec(http("feed chunk")
                    .post("/v1/feed")
                    .header("Authorization", "#{auth}")
                    .header("Content-Type", "application/x-ndjson")
                    .body(StringBody("#{lines}"))
                    .check(status().is(200)))
                .exec(
                    s -> {
                      ProviderFeed p = s.get("provider");
                      if (!s.isFailed()) {
                        events.add(p.applied());
                        idle.add(p);
                      }
                      // a provider whose chunk failed is out: its position is unknown
                      return s.remove("provider");
                    }))
        .injectOpen(BidScenarios.steps(eventsPerSecond / chunk, seconds, startAfterSeconds));
  }

  public Throughput events() {
    return events;
  }

  public long dropped() {
    return dropped.sum();
  }
}
