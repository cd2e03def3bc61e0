package io.surplus.feed.protocol;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.surplus.engine.Price;
import io.surplus.engine.RevocationKind;
import java.math.BigDecimal;

/**
 * Writes a {@link FeedEvent} as one NDJSON line (without the newline), fields in protocol order.
 * What it writes, {@link FeedParser} reads back to an equal event.
 */
public final class FeedWriter {

  private static final JsonMapper MAPPER = JsonMapper.builder().build();

  private FeedWriter() {}

  public static String toJson(FeedEvent event) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("type", event.type());
    o.put("seq", event.seq());
    if (event instanceof WindowOpened w) {
      o.put("windowId", w.windowId());
      o.put("gpuModel", w.gpuModel().name());
      o.put("pool", w.pool());
      o.put("region", w.region());
      o.put("nodes", w.nodes());
      o.put("gpusPerNode", w.gpusPerNode());
      o.put("start", w.start().toString());
      o.put("end", w.end().toString());
      o.put("reservePrice", Price.format(w.reservePrice()));
      o.put("noticeSeconds", w.noticeSeconds());
      w.confidencePpm().ifPresent(ppm -> o.put("confidence", confidence(ppm)));
    } else if (event instanceof WindowExtended w) {
      o.put("windowId", w.windowId());
      o.put("end", w.end().toString());
    } else if (event instanceof WindowRevoked w) {
      o.put("windowId", w.windowId());
      o.put("kind", w.kind() == RevocationKind.PLANNED ? "planned" : "emergency");
      o.put("at", w.at().toString());
      w.nodes().ifPresent(n -> o.put("nodes", n));
      w.end().ifPresent(e -> o.put("end", e.toString()));
    } else if (event instanceof Heartbeat h) {
      h.at().ifPresent(at -> o.put("at", at.toString()));
    }
    return o.toString();
  }

  /** Parts per million as a plain decimal string: {@code 950000 -> "0.95"}. */
  public static String confidence(int ppm) {
    return BigDecimal.valueOf(ppm, 6).stripTrailingZeros().toPlainString();
  }
}
