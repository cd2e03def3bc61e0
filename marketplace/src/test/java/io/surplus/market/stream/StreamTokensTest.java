package io.surplus.market.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Stream tokens verify on any node with the same secret, until they expire, and only then. */
class StreamTokensTest {

  static final byte[] SECRET =
      "a-test-secret-of-at-least-thirty-two-chars".getBytes(StandardCharsets.UTF_8);

  final StreamTokens tokens = new StreamTokens(SECRET, Duration.ofMinutes(5));

  @Test
  void shouldVerifyOnAnotherNodeWithTheSameSecretUntilItExpires() {
    long now = 1_800_000_000L;
    String t = tokens.issue(42, now);
    StreamTokens otherNode = new StreamTokens(SECRET.clone(), Duration.ofMinutes(5));
    assertEquals(42, otherNode.verify(t, now));
    assertEquals(42, otherNode.verify(t, now + 299));
    assertEquals(-1, otherNode.verify(t, now + 300));
    assertEquals(now + 300, tokens.expiresAt(now));
  }

  @Test
  void shouldRefuseATokenSignedWithAnotherSecretOrChangedInAnyPart() {
    long now = 1_800_000_000L;
    String t = tokens.issue(42, now);
    StreamTokens stranger =
        new StreamTokens(
            "another-secret-of-at-least-thirty-two-ch".getBytes(StandardCharsets.UTF_8),
            Duration.ofMinutes(5));
    assertEquals(-1, stranger.verify(t, now));
    assertEquals(-1, tokens.verify(t.replaceFirst("^st_42_", "st_43_"), now));
    assertEquals(
        -1, tokens.verify(t.replace("_" + (now + 300) + "_", "_" + (now + 9999) + "_"), now));
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      String changed = t.substring(0, i) + (c == 'A' ? 'B' : 'A') + t.substring(i + 1);
      assertEquals(-1, tokens.verify(changed, now), changed);
    }
    assertEquals(-1, tokens.verify(null, now));
    assertEquals(-1, tokens.verify("sk_42_abcdefghijklmnopqrstuvwxyz012345", now));
    assertEquals(-1, tokens.verify("st_42", now));
    assertEquals(-1, tokens.verify("st_x_y_z", now));
  }

  @Test
  void shouldNeedASecretInAClusterAndALongOneAnywhere() {
    var cluster =
        ConfigFactory.parseString(
                "pekko.cluster.seed-nodes = [\"pekko://surplus@10.0.0.1:25520\"]\n"
                    + "surplus.stream.token-secret = \"\"\n"
                    + "surplus.stream.token-ttl = 5m")
            .resolve();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> StreamTokens.from(cluster));
    assertTrue(e.getMessage().contains(StreamTokens.SECRET_KEY), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> new StreamTokens("short".getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(5)));
    var single =
        ConfigFactory.parseString(
                "pekko.cluster.seed-nodes = []\n"
                    + "surplus.stream.token-secret = \"\"\n"
                    + "surplus.stream.token-ttl = 5m")
            .resolve();
    StreamTokens own = StreamTokens.from(single);
    assertEquals(7, own.verify(own.issue(7, 100), 101));
  }
}
