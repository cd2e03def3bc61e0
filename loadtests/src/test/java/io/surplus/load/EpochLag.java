package io.surplus.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatling.http.action.ws.WsInboundMessage;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the WebSocket subscribers saw: for every epoch message, the time from its clearing ({@code
 * clearedAt}) to its arrival at the subscriber, and every gap in a market's epoch numbers between
 * the first and the last epoch a subscriber saw. A stream opens with one {@code subscribed}; a
 * second on the same subscriber means the server closed its stream (too slow: it fell {@code
 * surplus.stream.client-buffer} messages behind) and Gatling opened it again, counted in {@code
 * reopenedStreams}; the epochs it missed meanwhile count as gaps.
 */
public final class EpochLag {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Recorder lag = new Recorder(60_000, 3);
  private final Histogram all = new Histogram(60_000, 3);
  private final LongAdder epochs = new LongAdder();
  private final LongAdder late = new LongAdder();
  private final LongAdder gaps = new LongAdder();
  private final LongAdder reopened = new LongAdder();

  /** The key of a subscriber's state that counts its {@code subscribed} messages (no GPU model). */
  private static final String SUBSCRIBED = "subscribed";

  private final long limitMillis;

  public EpochLag(long limitMillis) {
    this.limitMillis = limitMillis;
  }

  /**
   * Takes a subscriber's new messages; {@code lastEpochs} (the subscriber's own, market to last
   * epoch seen) is updated.
   */
  public void take(List<WsInboundMessage> messages, Map<String, Long> lastEpochs) {
    for (WsInboundMessage m : messages) {
      if (!(m instanceof WsInboundMessage.Text text)) {
        continue;
      }
      JsonNode n;
      try {
        n = JSON.readTree(text.message());
      } catch (IOException e) {
        continue;
      }
      String type = n.path("type").asText();
      if (SUBSCRIBED.equals(type) && lastEpochs.merge(SUBSCRIBED, 1L, Long::sum) > 1) {
        reopened.increment();
      }
      if (!"epoch".equals(type)) {
        continue;
      }
      long cleared = Instant.parse(n.path("clearedAt").asText()).toEpochMilli();
      long millis = Math.max(0, text.timestamp() - cleared);
      lag.recordValue(Math.min(millis, 60_000));
      epochs.increment();
      if (millis > limitMillis) {
        late.increment();
      }
      String market = n.path("gpuModel").asText();
      long epoch = n.path("epoch").asLong();
      Long last = lastEpochs.put(market, epoch);
      if (last != null && epoch > last + 1) {
        gaps.add(epoch - last - 1);
      }
    }
  }

  public static Map<String, Long> newSubscriberState() {
    return new HashMap<>();
  }

  /** The figures so far, for {@link Results}. */
  public synchronized Map<String, Object> figures() {
    all.add(lag.getIntervalHistogram());
    return Map.of(
        "epochMessages", epochs.sum(),
        "lagP50Millis", all.getValueAtPercentile(50),
        "lagP99Millis", all.getValueAtPercentile(99),
        "lagMaxMillis", all.getMaxValue(),
        "lateMessages", late.sum(),
        "lagLimitMillis", limitMillis,
        "missedEpochs", gaps.sum(),
        "reopenedStreams", reopened.sum());
  }
}
