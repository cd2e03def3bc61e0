package io.surplus.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Paging cursors as a client can forge them: the marketplace's cursor in the unsigned form its old
 * code took (partition length, partition, the driver's paging state, base64url), which the service
 * must refuse naming the cursor. The fuzzer sends them, and so does the marketplace's HygieneTest.
 */
public final class Cursors {

  private Cursors() {}

  /** A cursor in the old unsigned form: partition length, partition, paging state. */
  public static String unsigned(String partition, byte[] pagingState) {
    byte[] p = partition.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[1 + p.length + pagingState.length];
    out[0] = (byte) p.length;
    System.arraycopy(p, 0, out, 1, p.length);
    System.arraycopy(pagingState, 0, out, 1 + p.length, pagingState.length);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
  }
}
