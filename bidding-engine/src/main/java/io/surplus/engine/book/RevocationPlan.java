package io.surplus.engine.book;

import io.surplus.engine.ResultCode;
import java.util.List;

/** The outcome of a revocation: its result code and, when applied, the leases it cut. */
public record RevocationPlan(ResultCode code, long windowId, List<Cut> cuts) {

  static RevocationPlan rejected(ResultCode code, long windowId) {
    return new RevocationPlan(code, windowId, List.of());
  }
}
