package io.surplus.market.http;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How long a request body may take, from {@code surplus.http} ({@code application.conf}). A body
 * that does not arrive in time is answered {@code 408} with a problem document; both are shorter
 * than the server's {@code pekko.http.server.request-timeout} so the client hears {@code 408}, not
 * the server's {@code 503}.
 *
 * @param body the whole body of an ordinary (JSON) request must arrive within this
 * @param feedIdle a streamed feed body may go this long without a byte before it is cut off
 */
public record BodyTimeouts(Duration body, Duration feedIdle) {

  /** Time for the whole body of a JSON request (env {@code SURPLUS_BODY_TIMEOUT}). */
  public static final String BODY = "surplus.http.body-timeout";

  public static final Duration DEFAULT_BODY = Duration.ofSeconds(10);

  /**
   * Longest silence inside a {@code POST /v1/feed} body (env {@code SURPLUS_FEED_IDLE_TIMEOUT}).
   */
  public static final String FEED_IDLE = "surplus.http.feed-idle-timeout";

  public static final Duration DEFAULT_FEED_IDLE = Duration.ofSeconds(10);

  public BodyTimeouts {
    if (body == null || body.isNegative() || body.isZero()) {
      throw new IllegalArgumentException("body timeout must be > 0: body=" + body);
    }
    if (feedIdle == null || feedIdle.isNegative() || feedIdle.isZero()) {
      throw new IllegalArgumentException("feed idle timeout must be > 0: feedIdle=" + feedIdle);
    }
  }

  /** Reads the timeouts, taking the default of any key that is absent. */
  public static BodyTimeouts from(Config config) {
    return new BodyTimeouts(
        config.hasPath(BODY) ? config.getDuration(BODY) : DEFAULT_BODY,
        config.hasPath(FEED_IDLE) ? config.getDuration(FEED_IDLE) : DEFAULT_FEED_IDLE);
  }
}
