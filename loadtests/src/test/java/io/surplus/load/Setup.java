package io.surplus.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What a run needs before its first arrival, made through the public API: the markets, bidder and
 * provider accounts (created with the admin key unless keys are given), and standing capacity for
 * bids to fill against. Blocking and single-threaded: it runs once, before the clock starts.
 */
public final class Setup {

  /** The service's slot length in seconds (15 minutes unless the service was started otherwise). */
  public static final long SLOT_SECONDS = Long.getLong("surplus.slotSeconds", 900);

  /** A credit limit no load run reaches, so credit never refuses a bid. */
  static final String BIDDER_CREDIT = "100000000.00";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final LoadConfig config;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String run = UUID.randomUUID().toString().substring(0, 8);

  public Setup(LoadConfig config) {
    this.config = config;
  }

  /** The GPU models the service has markets for. */
  public List<String> markets() {
    JsonNode body = get("/v1/markets");
    List<String> models = new ArrayList<>();
    body.path("markets").forEach(m -> models.add(m.path("gpuModel").asText()));
    if (models.isEmpty()) {
      throw new IllegalStateException("the service lists no markets: " + body);
    }
    return models;
  }

  /** The given bidder keys, or {@code n} new bidders. */
  public List<String> bidders(int n) {
    return config.bidderKeys().isEmpty() ? create("bidder", n, BIDDER_CREDIT) : config.bidderKeys();
  }

  /** The given provider keys, or {@code n} new providers. */
  public List<String> providers(int n) {
    return config.providerKeys().isEmpty() ? create("provider", n, null) : config.providerKeys();
  }

  private List<String> create(String role, int n, String credit) {
    if (config.adminKey().isEmpty()) {
      throw new IllegalStateException(
          "no "
              + role
              + " keys given (-D"
              + LoadConfig.BIDDER_KEYS
              + ", -D"
              + LoadConfig.PROVIDER_KEYS
              + ") and no admin key (-D"
              + LoadConfig.ADMIN_KEY
              + ") to create them");
    }
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String body =
          "{\"role\":\""
              + role
              + "\",\"name\":\"load "
              + role
              + " "
              + i
              + "\""
              + (credit == null ? "" : ",\"creditLimit\":\"" + credit + "\"")
              + "}";
      JsonNode created;
      try {
        created = post("/v1/accounts", config.adminKey(), "acct-" + run + "-" + role + i, body);
      } catch (IllegalStateException e) {
        if (!e.getMessage().contains("account-exists")) {
          throw e;
        }
        // a 503 whose account was made after all: its key is shown only once, so make another
        created =
            post("/v1/accounts", config.adminKey(), "acct-" + run + "-" + role + i + "-b", body);
      }
      keys.add(created.path("apiKey").asText());
    }
    return keys;
  }

  /**
   * Standing capacity: for each market, {@code perMarket} windows of 64 nodes from the next slot
   * over twelve hours, reserve prices $1.20 to $1.95 per GPU-hour, offered by the first provider.
   */
  public void offerWindows(String providerKey, List<String> markets, int perMarket) {
    long slot = Instant.now().getEpochSecond() / SLOT_SECONDS + 1;
    for (String model : markets) {
      for (int w = 0; w < perMarket; w++) {
        Instant start = Instant.ofEpochSecond((slot + w % 4) * SLOT_SECONDS);
        Instant end = start.plusSeconds(48 * SLOT_SECONDS);
        String reserve = String.format("%d.%02d", 1 + (20 + 5 * w) / 100, (20 + 5 * w) % 100);
        String body =
            "{\"gpuModel\":\""
                + model
                + "\",\"pool\":\"load-pool-"
                + w % 8
                + "\",\"region\":\"us-east\",\"nodes\":64,\"start\":\""
                + start
                + "\",\"end\":\""
                + end
                + "\",\"reservePrice\":\""
                + reserve
                + "\",\"noticeSeconds\":600}";
        post("/v1/windows", providerKey, "win-" + run + "-" + model + "-" + w, body);
      }
    }
  }

  /** The system property that asks for books filled before the run: open bids per market. */
  public static final String PREFILL = "surplus.prefill";

  /**
   * Fills every market's book with {@code perMarket} open GTC bids before the clock starts, in
   * batches of 1,000 from each bidder in turn: 1-8 nodes for one to three slots somewhere in the
   * next twelve hours at $2.00-$2.99, above every standing window's reserve and far more than the
   * windows hold, so they stay open and the engine must search them (no expiry: they outlive the
   * run). Returns how many the service took.
   */
  public long prefill(List<String> bidderKeys, List<String> markets, int perMarket) {
    java.util.Random r = new java.util.Random(7);
    long taken = 0;
    long slot = Instant.now().getEpochSecond() / SLOT_SECONDS + 2;
    for (String model : markets) {
      for (int done = 0, batch = 0; done < perMarket; batch++) {
        int size = Math.min(1000, perMarket - done);
        StringBuilder b = new StringBuilder(size * 220).append("{\"bids\":[");
        for (int i = 0; i < size; i++) {
          int slots = 1 + r.nextInt(3);
          Instant start = Instant.ofEpochSecond((slot + r.nextInt(40)) * SLOT_SECONDS);
          Instant end = start.plusSeconds((slots + r.nextInt(8)) * SLOT_SECONDS);
          b.append(i > 0 ? "," : "")
              .append("{\"gpuModel\":\"")
              .append(model)
              .append("\",\"nodes\":")
              .append(1 + r.nextInt(8))
              .append(",\"durationMinutes\":")
              .append(slots * SLOT_SECONDS / 60)
              .append(",\"earliestStart\":\"")
              .append(start)
              .append("\",\"latestEnd\":\"")
              .append(end)
              .append("\",\"limitPrice\":\"2.")
              .append(String.format("%02d", r.nextInt(100)))
              .append("\"}");
        }
        String key = bidderKeys.get(batch % bidderKeys.size());
        JsonNode result =
            post(
                "/v1/bids/batch",
                key,
                "prefill-" + run + "-" + model + "-" + batch,
                b.append("]}").toString());
        taken += result.path("accepted").asLong();
        done += size;
      }
    }
    return taken;
  }

  /** Feed state for each provider, from its last applied sequence. */
  public List<ProviderFeed> feeds(List<String> providerKeys, List<String> markets) {
    List<ProviderFeed> feeds = new ArrayList<>();
    for (int i = 0; i < providerKeys.size(); i++) {
      String key = providerKeys.get(i);
      long last =
          send(HttpRequest.newBuilder(URI.create(config.url() + "/v1/feed/position"))
                  .header("Authorization", "Bearer " + key)
                  .GET())
              .path("lastApplied")
              .asLong();
      feeds.add(new ProviderFeed(key, i, markets, last));
    }
    return feeds;
  }

  JsonNode get(String path) {
    return send(HttpRequest.newBuilder(URI.create(config.url() + path)).GET());
  }

  JsonNode post(String path, String key, String idempotencyKey, String body) {
    return send(
        HttpRequest.newBuilder(URI.create(config.url() + path))
            .header("Authorization", "Bearer " + key)
            .header("Idempotency-Key", idempotencyKey)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private JsonNode send(HttpRequest.Builder request) {
    HttpRequest r = request.timeout(Duration.ofSeconds(30)).build();
    for (int attempt = 1; ; attempt++) {
      try {
        HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 503 && attempt < 5) {
          Thread.sleep(1000L * attempt);
          continue;
        }
        if (response.statusCode() >= 300) {
          throw new IllegalStateException(
              r.method() + " " + r.uri() + " -> " + response.statusCode() + " " + response.body());
        }
        return JSON.readTree(response.body());
      } catch (IOException e) {
        throw new IllegalStateException("cannot reach " + r.uri() + ": " + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }
}
