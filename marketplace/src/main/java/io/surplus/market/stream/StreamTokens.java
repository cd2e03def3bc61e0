package io.surplus.market.stream;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stream tokens: short-lived, read-only stand-ins for an API key in the stream's URL, where proxy
 * logs and browser histories keep whatever they see. A token is {@code
 * st_<account>_<expires>_<mac>}: the account, the expiry in Unix seconds, and an HMAC-SHA256 of
 * both under the service's secret ({@value #SECRET_KEY}). Nothing is stored, so any node that has
 * the same secret accepts a token another node issued; a token opens the stream and nothing else
 * (the API takes only keys), and it is checked when the stream opens: a stream already open
 * outlives its token.
 */
public final class StreamTokens {

  /** The HMAC secret; every node of a cluster needs the same one. */
  public static final String SECRET_KEY = "surplus.stream.token-secret";

  /** How long a token opens streams for; five minutes unless configured. */
  public static final String TTL_KEY = "surplus.stream.token-ttl";

  /** The shortest secret taken, in characters. */
  public static final int MIN_SECRET_LENGTH = 32;

  private static final Logger log = LoggerFactory.getLogger(StreamTokens.class);
  private static final String PREFIX = "st_";
  private static final String CONTEXT = "surplus-stream-token-v1|";

  private final byte[] secret;
  private final Duration ttl;

  public StreamTokens(byte[] secret, Duration ttl) {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new IllegalArgumentException(
          SECRET_KEY + " must have at least " + MIN_SECRET_LENGTH + " characters");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException(TTL_KEY + " must be positive: " + ttl);
    }
    this.secret = secret.clone();
    this.ttl = ttl;
  }

  /**
   * From the configuration. With no secret configured, a node makes a random one of its own: fine
   * for one node, and refused when seed nodes are configured (a cluster), since each node would
   * then refuse the others' tokens.
   */
  public static StreamTokens from(Config root) {
    Duration ttl = root.getDuration(TTL_KEY);
    String configured = root.getString(SECRET_KEY);
    if (!configured.isEmpty()) {
      return new StreamTokens(configured.getBytes(StandardCharsets.UTF_8), ttl);
    }
    if (!root.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      throw new IllegalStateException(
          SECRET_KEY
              + " (SURPLUS_STREAM_TOKEN_SECRET) is not set: every node of a cluster needs the"
              + " same stream token secret");
    }
    log.info(
        "no {} configured: stream tokens are signed with a secret of this node's own, and die"
            + " with it",
        SECRET_KEY);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return new StreamTokens(Base64.getEncoder().encode(random), ttl);
  }

  public Duration ttl() {
    return ttl;
  }

  /** A token for {@code account} that expires {@link #ttl} after {@code nowSeconds}. */
  public String issue(long account, long nowSeconds) {
    long expires = nowSeconds + ttl.toSeconds();
    return PREFIX + account + "_" + expires + "_" + mac(account, expires);
  }

  /** The expiry of a token {@link #issue} makes at {@code nowSeconds}. */
  public long expiresAt(long nowSeconds) {
    return nowSeconds + ttl.toSeconds();
  }

  /** The account a token names if it is genuine and not expired at {@code nowSeconds}, else -1. */
  public long verify(String token, long nowSeconds) {
    if (token == null || token.length() > 128 || !token.startsWith(PREFIX)) {
      return -1;
    }
    // the MAC's URL-safe base64 may itself hold '_': it is the rest after the second one
    String[] parts = token.substring(PREFIX.length()).split("_", 3);
    if (parts.length != 3) {
      return -1;
    }
    long account;
    long expires;
    try {
      account = Long.parseLong(parts[0]);
      expires = Long.parseLong(parts[1]);
    } catch (NumberFormatException e) {
      return -1;
    }
    boolean genuine =
        MessageDigest.isEqual(
            mac(account, expires).getBytes(StandardCharsets.US_ASCII),
            parts[2].getBytes(StandardCharsets.US_ASCII));
    return genuine && account > 0 && nowSeconds < expires ? account : -1;
  }

  private String mac(long account, long expires) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      byte[] digest =
          mac.doFinal((CONTEXT + account + "|" + expires).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JVM", e);
    }
  }
}
