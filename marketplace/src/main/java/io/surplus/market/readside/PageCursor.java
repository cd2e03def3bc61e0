package io.surplus.market.readside;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Where the next page starts: a partition (a month or a day) and the driver's paging state inside
 * it (empty: from the partition's first row). Clients see it only as an opaque base64url string.
 */
record PageCursor(String partition, ByteBuffer pagingState) {

  /** Partitions are {@code yyyy-MM} or {@code yyyy-MM-dd}. */
  private static final int MAX_PARTITION = 10;

  static String encode(String partition, ByteBuffer pagingState) {
    byte[] p = partition.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer state = pagingState == null ? ByteBuffer.allocate(0) : pagingState.duplicate();
    ByteBuffer out = ByteBuffer.allocate(1 + p.length + state.remaining());
    out.put((byte) p.length).put(p).put(state);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(out.array());
  }

  /**
   * @throws IllegalArgumentException naming the cursor when it was not made by {@link #encode}
   */
  static PageCursor decode(String cursor) {
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(cursor);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cursor is not a cursor of this API: cursor=" + cursor);
    }
    if (bytes.length < 1
        || bytes[0] <= 0
        || bytes[0] > MAX_PARTITION
        || bytes.length < 1 + bytes[0]) {
      throw new IllegalArgumentException("cursor is not a cursor of this API: cursor=" + cursor);
    }
    String partition = new String(bytes, 1, bytes[0], StandardCharsets.US_ASCII);
    ByteBuffer state = ByteBuffer.wrap(bytes, 1 + bytes[0], bytes.length - 1 - bytes[0]).slice();
    return new PageCursor(partition, state.hasRemaining() ? state : null);
  }
}
