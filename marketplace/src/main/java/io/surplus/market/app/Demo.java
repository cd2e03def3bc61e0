package io.surplus.market.app;

import io.surplus.engine.SlotClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Keeps a demo market moving until the capacity feed exists: every few seconds a demo provider
 * offers an idle window and a demo bidder places a few bids, both through the public HTTP API with
 * their own keys, exactly as outside clients would.
 */
final class Demo {

  /** Time between demo rounds. */
  static final Duration ROUND = Duration.ofSeconds(5);

  private final Settings settings;
  private final String base;
  private final String bidderKey;
  private final String providerKey;
  private final HttpClient http = HttpClient.newHttpClient();
  private final SplittableRandom random = new SplittableRandom(7);
  private final List<String> models;

  private Demo(Settings settings, String base, Properties keys) {
    this.settings = settings;
    this.base = base;
    this.bidderKey = keys.getProperty("bidder");
    this.providerKey = keys.getProperty("provider");
    this.models = new ArrayList<>(settings.markets().keySet());
  }

  static void start(ActorSystem<?> system, Settings settings, String base, Properties keys) {
    Demo demo = new Demo(settings, base, keys);
    system
        .scheduler()
        .scheduleWithFixedDelay(
            Duration.ofSeconds(1), ROUND, demo::round, system.executionContext());
  }

  private void round() {
    try {
      SlotClock clock = settings.clock();
      long now = System.currentTimeMillis();
      String model = models.get(random.nextInt(models.size()));
      int startSlot = clock.slotAtOrAfter(now) + random.nextInt(4);
      int slots = 8 + random.nextInt(40);
      String region = settings.regions().get(random.nextInt(settings.regions().size()));
      post(
          "/v1/windows",
          providerKey,
          String.format(
              "{\"gpuModel\":\"%s\",\"pool\":\"%s-%s\",\"region\":\"%s\",\"nodes\":%d,"
                  + "\"start\":\"%s\",\"end\":\"%s\",\"reservePrice\":\"%d.%02d\","
                  + "\"noticeSeconds\":%d,\"confidence\":\"0.9\"}",
              model,
              region,
              model.substring(0, 4).toLowerCase(java.util.Locale.ROOT),
              region,
              8 * (1 + random.nextInt(8)),
              clock.start(startSlot),
              clock.start(startSlot + slots),
              1 + random.nextInt(2),
              random.nextInt(100),
              300 * (1 + random.nextInt(4))));
      for (int i = 0; i < 3; i++) {
        String m = models.get(random.nextInt(models.size()));
        int nodes = 1 + random.nextInt(16);
        int first = clock.slotAtOrAfter(now);
        Instant earliest = clock.start(first + random.nextInt(4));
        Instant latest = clock.start(first + 8 + random.nextInt(60));
        post(
            "/v1/bids",
            bidderKey,
            String.format(
                "{\"gpuModel\":\"%s\",\"nodes\":%d,\"minNodes\":%d,\"durationMinutes\":%d,"
                    + "\"earliestStart\":\"%s\",\"latestEnd\":\"%s\",\"limitPrice\":\"%d.%02d\"}",
                m,
                nodes,
                Math.max(1, nodes / 2),
                15 * (1 + random.nextInt(8)),
                earliest,
                latest,
                1 + random.nextInt(3),
                random.nextInt(100)));
      }
    } catch (RuntimeException e) {
      // the demo never stops the service; the next round tries again
    }
  }

  private void post(String path, String key, String body) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Authorization", "Bearer " + key)
            .header("Idempotency-Key", UUID.randomUUID().toString())
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    http.sendAsync(request, HttpResponse.BodyHandlers.discarding());
  }
}
