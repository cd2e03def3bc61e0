package io.surplus.market.readside;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Where the next page starts: a partition (a month or a day) and the driver's paging state inside
 * it (empty: from the partition's first row). Clients see it only as an opaque base64url string,
 * signed with the service's cursor secret (HMAC-SHA256) over the query it belongs to (its {@code
 * scope}, such as the account or the market): a cursor the service did not make, or made for
 * another query, is refused before anything reaches Cassandra, so no client can name a partition or
 * a paging state of its own choosing.
 */
record PageCursor(String partition, ByteBuffer pagingState) {

  /** Partitions are {@code yyyy-MM} or {@code yyyy-MM-dd}. */
  private static final int MAX_PARTITION = 10;

  /** Bytes of the HMAC kept in a cursor. */
  private static final int MAC_BYTES = 16;

  /** Longest cursor text decoded; the driver's paging states are far shorter. */
  static final int MAX_CURSOR_CHARS = 1024;

  /** Signs and checks cursors with one secret; every node of a service must share it. */
  static final class Codec {
    private final SecretKeySpec key;

    Codec(byte[] secret) {
      if (secret == null || secret.length < 16) {
        throw new IllegalArgumentException(
            "the cursor secret must have at least 16 bytes: length="
                + (secret == null ? 0 : secret.length));
      }
      this.key = new SecretKeySpec(secret.clone(), "HmacSHA256");
    }

    String encode(String scope, String partition, ByteBuffer pagingState) {
      byte[] p = partition.getBytes(StandardCharsets.US_ASCII);
      ByteBuffer state = pagingState == null ? ByteBuffer.allocate(0) : pagingState.duplicate();
      ByteBuffer body = ByteBuffer.allocate(1 + p.length + state.remaining());
      body.put((byte) p.length).put(p).put(state);
      byte[] signed = Arrays.copyOf(body.array(), body.capacity() + MAC_BYTES);
      System.arraycopy(mac(scope, body.array()), 0, signed, body.capacity(), MAC_BYTES);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(signed);
    }

    /**
     * @throws IllegalArgumentException starting with "cursor" when this codec did not make it for
     *     {@code scope}
     */
    PageCursor decode(String scope, String cursor) {
      IllegalArgumentException bad =
          new IllegalArgumentException(
              "cursor is not a cursor of this query; pass the nextCursor of the previous page");
      if (cursor.length() > MAX_CURSOR_CHARS) {
        throw bad;
      }
      byte[] bytes;
      try {
        bytes = Base64.getUrlDecoder().decode(cursor);
      } catch (IllegalArgumentException e) {
        throw bad;
      }
      int bodyLength = bytes.length - MAC_BYTES;
      if (bodyLength < 1
          || bytes[0] <= 0
          || bytes[0] > MAX_PARTITION
          || bodyLength < 1 + bytes[0]) {
        throw bad;
      }
      byte[] body = Arrays.copyOf(bytes, bodyLength);
      byte[] expected = Arrays.copyOf(mac(scope, body), MAC_BYTES);
      if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(bytes, bodyLength, bytes.length))) {
        throw bad;
      }
      String partition = new String(body, 1, body[0], StandardCharsets.US_ASCII);
      ByteBuffer state = ByteBuffer.wrap(body, 1 + body[0], bodyLength - 1 - body[0]).slice();
      return new PageCursor(partition, state.hasRemaining() ? state : null);
    }

    private byte[] mac(String scope, byte[] body) {
      try {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(key);
        mac.update(scope.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) 0);
        return mac.doFinal(body);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
      }
    }
  }
}
