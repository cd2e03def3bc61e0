package io.surplus.market.webhooks;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.http.javadsl.ClientTransport;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.settings.ClientConnectionSettings;
import org.apache.pekko.http.javadsl.settings.ConnectionPoolSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers signed notices to bidders' webhooks: a POST of the JSON body with {@code
 * Surplus-Delivery: <id>} and {@code Surplus-Signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(secret, t + "." + body)>}. A non-2xx answer or no answer is retried with back-off
 * ({@link #BACKOFF}); every attempt is logged in {@code webhook_deliveries}. Receivers dedupe by
 * the delivery id, since a notice may come more than once.
 *
 * <p>Every attempt passes the {@link EgressPolicy} again: the URL is checked and its host resolved
 * before anything is sent, and an attempt the policy refuses is logged as refused, with the rule,
 * and never connects. The connection itself goes through a client transport whose resolver is the
 * policy's: it resolves and checks the host once more and connects to exactly the address it
 * checked (TLS still verifies the certificate against the URL's host name), so a DNS answer that
 * changes between the check and the connection cannot slip through. Each attempt asks for {@code
 * Connection: close}, so no pooled connection outlives the check that opened it.
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
  private final EgressPolicy policy;
  private final Executor blocking;
  private final ConnectionPoolSettings pool;

  public WebhookSender(
      ActorSystem<?> system, CqlSession session, String keyspace, EgressPolicy policy) {
    this.system = system;
    this.session = session;
    this.policy = policy;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    ClientTransport pinned =
        ClientTransport.withCustomResolver(
            // Scala's Int comes through as an Object
            (host, port) ->
                CompletableFuture.supplyAsync(() -> pinnedAddress(host, (Integer) port), blocking));
    this.pool =
        ConnectionPoolSettings.create(system.classicSystem())
            .withTransport(pinned)
            .withMaxRetries(0)
            .withConnectionSettings(
                ClientConnectionSettings.create(system.classicSystem())
                    .withConnectingTimeout(ATTEMPT_TIMEOUT)
                    .withIdleTimeout(ATTEMPT_TIMEOUT));
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

  /**
   * Delivers (attempt 1 now, the rest on failure); completes once the notice is delivered or the
   * last attempt has failed (never exceptionally).
   */
  public CompletionStage<Void> send(Delivery d) {
    CompletableFuture<Void> settled = new CompletableFuture<>();
    attempt(d, 1, settled);
    return settled;
  }

  /** An attempt the egress policy refused: nothing was sent. */
  static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused(String detail) {
      super(detail, null, false, false);
    }
  }

  /** The transport's resolver: the address the policy checked, or a failed connection. */
  private InetSocketAddress pinnedAddress(String host, int port) {
    EgressPolicy.Verdict v = policy.resolve(host, port);
    if (!v.allowed()) {
      throw new Refused(v.detail(policy.settings()));
    }
    return v.address();
  }

  private void attempt(Delivery d, int attempt, CompletableFuture<Void> settled) {
    CompletableFuture.supplyAsync(() -> policy.check(d.url()), blocking)
        .thenCompose(
            v -> {
              if (!v.allowed()) {
                throw new Refused(v.detail(policy.settings()));
              }
              return post(d, v.target());
            })
        .handle(
            (status, t) -> {
              String error = t == null ? null : describe(t);
              int code = t == null ? status : 0;
              record(d, attempt, code, error);
              boolean ok = code >= 200 && code < 300;
              if (!ok && attempt < BACKOFF.size()) {
                system
                    .scheduler()
                    .scheduleOnce(
                        BACKOFF.get(attempt),
                        () -> attempt(d, attempt + 1, settled),
                        system.executionContext());
                return null;
              }
              if (!ok) {
                log.warn(
                    "webhook delivery {} to {} failed {} times; giving up",
                    d.id(),
                    d.url(),
                    attempt);
              }
              settled.complete(null);
              return null;
            });
  }

  /** Posts the notice to the checked target; the status, once the answer's body is drained. */
  private CompletionStage<Integer> post(Delivery d, EgressPolicy.Target target) {
    long now = Instant.now().getEpochSecond();
    HttpRequest request =
        HttpRequest.POST(target.url())
            .addHeader(Connection.create("close"))
            .addHeader(RawHeader.create("Surplus-Delivery", d.id()))
            .addHeader(RawHeader.create("Surplus-Signature", signature(d.secret(), now, d.body())))
            .withEntity(ContentTypes.APPLICATION_JSON, d.body());
    Http http = Http.get(system);
    return http.singleRequest(
            request, http.defaultClientHttpsContext(), pool, system.classicSystem().log())
        .thenCompose(
            (HttpResponse r) ->
                r.discardEntityBytes(system)
                    .completionStage()
                    .thenApply(done -> r.status().intValue()))
        .toCompletableFuture()
        .orTimeout(ATTEMPT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * What the log says of a failed attempt: the policy's rule for a refusal (and nothing about the
   * target), else the failure's kind and message.
   */
  static String describe(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof Refused r) {
        return "refused by the egress policy: " + r.getMessage();
      }
    }
    Throwable c = t;
    while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof java.util.concurrent.TimeoutException) {
      return "no answer within " + ATTEMPT_TIMEOUT.toSeconds() + " s";
    }
    return c.getClass().getSimpleName() + ": " + c.getMessage();
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
