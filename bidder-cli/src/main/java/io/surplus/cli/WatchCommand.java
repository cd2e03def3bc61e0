package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code surplus watch GPU_MODEL}: a live tail of one market from the {@code /v1/stream} WebSocket,
 * a line per durable epoch and per revocation (and, with a key, per notice on the bidder's own
 * leases), until {@code --count} lines, {@code --for} time, the stream's end, or Ctrl-C.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "watch",
    description = {
      "Follow one market live: a line per epoch as it clears (price, leases, open bids and why"
          + " they wait), per revocation and, with your key, per preemption notice on your leases.",
      "Runs until --count lines, --for a time, or Ctrl-C. Heartbeats are not shown."
    })
final class WatchCommand extends ApiCommand {

  /** What the listener hands the printing thread when the stream ends. */
  private static final String CLOSED = "\u0000closed";

  @Parameters(paramLabel = "GPU_MODEL", description = "The market, e.g. H100-SXM-80GB.")
  String model;

  @Option(names = "--count", paramLabel = "N", description = "Stop after N lines.")
  Integer count;

  @Option(
      names = "--for",
      converter = TimeArgs.Seconds.class,
      paramLabel = "DURATION",
      description = "Stop after this long: 30s, 5m (a plain number is seconds).")
  Duration duration;

  @Override
  void run() {
    if (count != null && count < 1) {
      throw CliError.usage("--count must be at least 1, got " + count);
    }
    ApiClient api = api();
    // an unknown market gets the API's own 404 naming it, and an absent service exit 3, before
    // the WebSocket handshake (whose refusals carry no problem document)
    api.get(MarketCommands.path(model, "book"));

    BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    // the key buys a token for the stream's URL; the key itself stays in a header
    WebSocket ws =
        api.websocket(
            ApiClient.path(
                "/v1/stream", ApiClient.query("markets", model, "token", api.streamToken())),
            listener(messages));
    if (!json()) {
      err()
          .println(
              "watching "
                  + model
                  + " at "
                  + api.base()
                  + ": a line per epoch while the market has open bids (Ctrl-C to stop)");
      err().flush();
    }
    long deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    int shown = 0;
    try {
      while (count == null || shown < count) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        String m = messages.poll(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
        if (m == null) {
          continue;
        }
        if (m.startsWith(CLOSED)) {
          throw CliError.unavailable("the stream ended: " + m.substring(CLOSED.length()));
        }
        JsonNode n = parse(m);
        String type = String.valueOf(Fmt.text(n, "type"));
        if (type.equals("heartbeat") || type.equals("subscribed")) {
          continue; // keep-alive, and the stream's word that it is live: nothing to show
        }
        out().println(json() ? m : line(n));
        out().flush();
        shown++;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
      ws.abort();
    }
  }

  private static JsonNode parse(String m) {
    try {
      return ApiClient.MAPPER.readTree(m);
    } catch (IOException e) {
      throw CliError.unavailable("the stream sent something that is not JSON: " + m);
    }
  }

  /** One stream message as a line for people. */
  static String line(JsonNode n) {
    String type = String.valueOf(Fmt.text(n, "type"));
    return switch (type) {
      case "epoch" -> epoch(n);
      case "revocation" ->
          Fmt.instant(n, "at")
              + "  "
              + Fmt.text(n, "gpuModel")
              + "  revocation ("
              + Fmt.text(n, "kind")
              + "): "
              + Fmt.text(n, "leasesCut")
              + " leases cut, "
              + Fmt.text(n, "nodesCut")
              + " nodes"
              + (n.hasNonNull("firstPreemptAt")
                  ? ", first preemption at " + Fmt.instant(n, "firstPreemptAt")
                  : "");
      case "lease.notified" ->
          Fmt.instant(n, "sentAt")
              + "  "
              + Fmt.text(n, "gpuModel")
              + "  your lease "
              + Fmt.text(n, "leaseId")
              + " (bid "
              + Fmt.text(n, "bidId")
              + ") is preempted at "
              + Fmt.instant(n, "preemptAt")
              + " ("
              + Fmt.text(n, "kind")
              + (n.path("requeued").asBoolean() ? "; the bid is back in the book" : "")
              + ")";
      default -> type + ": " + n;
    };
  }

  private static String epoch(JsonNode n) {
    String price = Fmt.text(n, "clearingPrice");
    StringBuilder s =
        new StringBuilder()
            .append(Fmt.instant(n, "clearedAt"))
            .append("  ")
            .append(Fmt.text(n, "gpuModel"))
            .append("  epoch ")
            .append(Fmt.text(n, "epoch"))
            .append("  price ")
            .append(price == null ? Table.NONE : price)
            .append("  leases ")
            .append(Fmt.text(n, "leases"))
            .append("  filled nodes ")
            .append(Fmt.text(n, "filledNodes"))
            .append("  open bids ")
            .append(Fmt.text(n, "openBids"));
    List<String> reasons = new ArrayList<>();
    for (Map.Entry<String, JsonNode> r : n.path("unfilledByReason").properties()) {
      reasons.add(r.getKey() + " " + r.getValue().asText());
    }
    if (!reasons.isEmpty()) {
      s.append("  waiting: ").append(String.join(", ", reasons));
    }
    return s.toString();
  }

  /** Collects whole text messages (the JDK may deliver one in parts) into {@code messages}. */
  private static WebSocket.Listener listener(BlockingQueue<String> messages) {
    return new WebSocket.Listener() {
      private final StringBuilder partial = new StringBuilder();

      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          messages.add(partial.toString());
          partial.setLength(0);
        }
        ws.request(1);
        return null;
      }

      @Override
      public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
        messages.add(CLOSED + "the service closed it (" + status + " " + reason + ")");
        return null;
      }

      @Override
      public void onError(WebSocket ws, Throwable error) {
        messages.add(CLOSED + "the connection broke (" + error + ")");
      }
    };
  }
}
