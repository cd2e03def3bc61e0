package io.surplus.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.fuzz.Exchange.Answer;
import io.surplus.fuzz.Exchange.Learn;
import io.surplus.fuzz.Generator.FeedDraft;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What the fuzzer's ledger learns from the answer to each write: a 2xx makes its bids and windows
 * known good, an answer that says nothing (a 5xx, a 503, none) makes them of unknown outcome, a 4xx
 * makes nothing. Feed answers move the provider's position; lines up to {@code lastApplied} were
 * applied.
 */
final class Learning {

  private Learning() {}

  static Learn forRoute(
      World world,
      String route,
      String key,
      String idempotencyKey,
      byte[] body,
      FeedDraft feed,
      byte[] rawBody) {
    String bodyText = body == null ? null : new String(body, StandardCharsets.UTF_8);
    return switch (route) {
      case "POST /v1/bids" -> a -> bid(world, route, key, idempotencyKey, bodyText, a);
      case "POST /v1/bids/batch" -> a -> batch(world, route, key, idempotencyKey, bodyText, a);
      case "POST /v1/windows" -> a -> window(world, route, key, idempotencyKey, bodyText, a);
      case "POST /v1/accounts" ->
          a -> {
            if (a.ok() && idempotencyKey != null) {
              world.keyBody(route + "|" + key, idempotencyKey, bodyText);
            }
          };
      case "POST /v1/feed" -> a -> feed(world, key, feed == null ? -1 : feed.from(), bodyText, a);
      default -> a -> {};
    };
  }

  private static boolean unknown(Answer a) {
    return a.status() == 0 || a.status() >= 500;
  }

  private static JsonNode parse(String text) {
    if (text == null) {
      return null;
    }
    try {
      return Exchange.MAPPER.readTree(text);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  static World.BidFacts bidFacts(long account, JsonNode b) {
    if (b == null || !b.isObject()) {
      return null;
    }
    return new World.BidFacts(
        account,
        b.path("gpuModel").asText(""),
        b.path("nodes").asInt(-1),
        b.path("durationMinutes").asInt(-1),
        World.decimal(b.path("limitPrice").asText("")));
  }

  private static void bid(
      World world, String route, String key, String idem, String body, Answer a) {
    if (idem != null) {
      world.usedSingleKey(key, idem);
    }
    if (a.ok()) {
      JsonNode j = a.json();
      if (j != null && j.hasNonNull("id")) {
        world.okBid(j.get("id").asText());
      }
      if (idem != null && body != null) {
        world.keyBody(route + "|" + key, idem, body);
      }
    } else if (unknown(a) || a.status() == 503) {
      World.BidFacts f = bidFacts(World.accountOf(key), parse(body));
      if (f != null) {
        world.unknownBid(f);
      }
    }
  }

  private static void batch(
      World world, String route, String key, String idem, String body, Answer a) {
    JsonNode sent = parse(body);
    JsonNode items = sent == null ? null : sent.path("bids");
    long account = World.accountOf(key);
    if (a.ok()) {
      if (idem != null) {
        world.usedBatchKey(key, idem);
        world.keyBody(route + "|" + key, idem, body);
      }
      JsonNode j = a.json();
      if (j == null) {
        return;
      }
      for (JsonNode r : j.path("results")) {
        int status = r.path("status").asInt();
        if (status == 201 && r.path("bid").hasNonNull("id")) {
          world.okBid(r.path("bid").get("id").asText());
        } else if (status >= 500 && items != null) {
          World.BidFacts f = bidFacts(account, items.path(r.path("index").asInt()));
          if (f != null) {
            world.unknownBid(f);
          }
        }
      }
    } else if (unknown(a) && items != null && items.isArray()) {
      for (JsonNode item : items) {
        World.BidFacts f = bidFacts(account, item);
        if (f != null) {
          world.unknownBid(f);
        }
      }
    }
  }

  static World.WindowFacts windowFacts(World world, JsonNode w) {
    if (w == null || !w.isObject()) {
      return null;
    }
    String model = w.path("gpuModel").asText("");
    return new World.WindowFacts(
        model,
        w.path("region").asText(""),
        w.path("nodes").asInt(-1),
        w.has("gpusPerNode") ? w.path("gpusPerNode").asInt(-1) : world.gpusPerNode(model),
        World.decimal(w.path("reservePrice").asText("")),
        w.path("noticeSeconds").asInt(-1));
  }

  private static void window(
      World world, String route, String key, String idem, String body, Answer a) {
    if (a.ok()) {
      World.WindowFacts f = windowFacts(world, a.json());
      if (f != null) {
        world.okWindow(f);
      }
      if (idem != null && body != null) {
        world.keyBody(route + "|" + key, idem, body);
      }
    } else if (unknown(a) || a.status() == 503) {
      World.WindowFacts f = windowFacts(world, parse(body));
      if (f != null) {
        world.unknownWindow(f);
      }
    }
  }

  /**
   * Lines of the body as sent (raw bodies too: a body with a BOM or trailing garbage still carries
   * lines the service may apply) with a sequence in {@code (from, lastApplied]} were applied; with
   * no {@code lastApplied} in the answer, every line after {@code from} is of unknown outcome.
   */
  private static void feed(World world, String provider, long from, String body, Answer a) {
    JsonNode j = a.json();
    boolean known = j != null && j.has("lastApplied") && (a.ok() || a.refused());
    if (!known) {
      world.feedResync(provider);
    }
    long last = known ? j.get("lastApplied").asLong() : Long.MAX_VALUE;
    if (body != null && from >= 0 && body.length() < 1_000_000) {
      for (String text : body.split("\n")) {
        // the service reads a line's bytes as Jackson does, which skips a byte order mark
        JsonNode line = parse(text.startsWith("\uFEFF") ? text.substring(1) : text);
        if (line == null
            || !"window.opened".equals(line.path("type").asText())
            || !line.path("seq").canConvertToExactIntegral()) {
          continue;
        }
        long seq = line.path("seq").asLong();
        if (seq <= from || seq > last) {
          continue;
        }
        World.WindowFacts facts = windowFacts(world, line);
        if (known) {
          world.okWindow(facts);
        } else {
          world.unknownWindow(facts);
        }
        try {
          world.feedWindowOpened(
              provider,
              new World.FeedWindow(
                  line.path("windowId").asText(),
                  line.path("gpuModel").asText(),
                  java.time.Instant.parse(line.path("start").asText()),
                  java.time.Instant.parse(line.path("end").asText()),
                  line.path("nodes").asInt(1)));
        } catch (RuntimeException e) {
          // a window with instants the fuzzer cannot read is not revoked or extended later
        }
      }
    }
    if (known) {
      world.feedSeq(provider, last);
    }
  }
}
