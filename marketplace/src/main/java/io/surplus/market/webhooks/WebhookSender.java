package io.surplus.market.webhooks;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletionStage;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers signed notices to bidders' webhooks: a POST of the JSON body with {@code
 * Surplus-Delivery: <id>} and {@code Surplus-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, t + "." + body)>}. A non-2xx answer or no answer is retried with back-off
 * ({@link #BACKOFF}); every attempt is logged in {@code webhook_deliveries}. Receivers dedupe by
 * the delivery id, since a notice may come more than once.
 */
public final class WebhookSender {

  private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);

  /** Delay before each attempt: the first at once, then doubling; six attempts in all. */
  public static final List<Duration> BACKOFF =
      List.of(
          Duration.ZERO,
          Duration.ofSeconds(1),
          Duration.ofSeconds(2),
          Duration.ofSeconds(4),
          Duration.ofSeconds(8),
          Duration.ofSeconds(16));

  /** How long one attempt waits for the receiver. */
  public static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(5);

  private static final DateTimeFormatter MONTH =
      DateTimeFormatter.ofPattern("yyyy-MM").withZone(ZoneOffset.UTC);

  /** One notice for one webhook. */
  public record Delivery(long account, String id, String url, String secret, String body) {}

  private final ActorSystem<?> system;
  private final CqlSession session;
  private final PreparedStatement logAttempt;
  private final PreparedStatement recent;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(ATTEMPT_TIMEOUT).build();

  public WebhookSender(ActorSystem<?> system, CqlSession session, String keyspace) {
    this.system = system;
    this.session = session;
    this.logAttempt =
        session.prepare(
            "INSERT INTO "
                + keyspace
                + ".webhook_deliveries (account, month, attempted_at, delivery_id, attempt, url,"
                + " status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    this.recent =
        session.prepare(
            "SELECT attempted_at, delivery_id, attempt, url, status, error FROM "
                + keyspace
                + ".webhook_deliveries WHERE account = ? AND month = ? LIMIT ?");
  }

  /** The signature header's value for {@code body} at {@code unixSeconds}. */
  public static String signature(String secret, long unixSeconds, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((unixSeconds + "." + body).getBytes(StandardCharsets.UTF_8));
      return "t=" + unixSeconds + ",v1=" + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JVM", e);
    }
  }

  /** Starts delivering (attempt 1 now, the rest on failure); returns at once. */
  public void send(Delivery d) {
    attempt(d, 1);
  }

  private void attempt(Delivery d, int attempt) {
    long now = Instant.now().getEpochSecond();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(d.url()))
            .timeout(ATTEMPT_TIMEOUT)
            .header("Content-Type", "application/json")
            .header("Surplus-Delivery", d.id())
            .header("Surplus-Signature", signature(d.secret(), now, d.body()))
            .POST(HttpRequest.BodyPublishers.ofString(d.body()))
            .build();
    http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .handle(
            (r, t) -> {
              int status = t == null ? r.statusCode() : 0;
              String error =
                  t == null ? null : t.getClass().getSimpleName() + ": " + t.getMessage();
              record(d, attempt, status, error);
              boolean ok = status >= 200 && status < 300;
              if (!ok && attempt < BACKOFF.size()) {
                system
                    .scheduler()
                    .scheduleOnce(
                        BACKOFF.get(attempt),
                        () -> attempt(d, attempt + 1),
                        system.executionContext());
              } else if (!ok) {
                log.warn(
                    "webhook delivery {} to {} failed {} times; giving up",
                    d.id(),
                    d.url(),
                    attempt);
              }
              return null;
            });
  }

  private void record(Delivery d, int attempt, int status, String error) {
    Instant at = Instant.now();
    session
        .executeAsync(
            logAttempt.bind(
                d.account(), MONTH.format(at), at, d.id(), attempt, d.url(), status, error))
        .whenComplete(
            (rs, t) -> {
              if (t != null) {
                log.warn(
                    "could not log webhook attempt {} of {}: {}", attempt, d.id(), t.toString());
              }
            });
  }

  /** One attempt as the delivery log holds it. */
  public record Attempt(
      String attemptedAt, String deliveryId, int attempt, String url, int status, String error) {}

  /** The account's latest attempts this month, newest first. */
  public CompletionStage<List<Attempt>> recent(long account, int limit) {
    return session
        .executeAsync(recent.bind(account, MONTH.format(Instant.now()), limit))
        .thenApply(
            rs -> {
              List<Attempt> out = new java.util.ArrayList<>();
              for (var row : rs.currentPage()) {
                out.add(
                    new Attempt(
                        row.getInstant("attempted_at").toString(),
                        row.getString("delivery_id"),
                        row.getInt("attempt"),
                        row.getString("url"),
                        row.getInt("status"),
                        row.getString("error")));
              }
              return out;
            });
  }
}
