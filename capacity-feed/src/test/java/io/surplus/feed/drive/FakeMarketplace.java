package io.surplus.feed.drive;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.surplus.engine.RevocationKind;
import io.surplus.feed.protocol.FeedError;
import io.surplus.feed.protocol.FeedEvent;
import io.surplus.feed.protocol.FeedParser;
import io.surplus.feed.protocol.ParseResult;
import io.surplus.feed.protocol.WindowExtended;
import io.surplus.feed.protocol.WindowOpened;
import io.surplus.feed.protocol.WindowRevoked;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A marketplace that keeps the feed and bid contract honestly, in memory, on 127.0.0.1: it tracks
 * the last applied sequence number per provider key, applies only {@code lastApplied + 1}, skips
 * duplicates, refuses a line with 422 (nothing after it applied) or a gap with 409, and checks the
 * state rules the driver must keep: window ids unique, windows not over, revocations and extensions
 * of known windows only, planned revocations at least the window's notice ahead. It can be told to
 * answer 503 or drop the connection for the next requests. Every applied event and every bid
 * request is recorded with when it arrived. Tests only.
 */
final class FakeMarketplace implements AutoCloseable {

  enum Fault {
    UNAVAILABLE,
    DROP_BEFORE_APPLYING,
    DROP_AFTER_APPLYING
  }

  record Applied(long seq, FeedEvent event, Instant receivedAt) {}

  record BidCall(String idempotencyKey, String body, Instant receivedAt, String outcome) {}

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final HttpServer server;
  private final Set<String> providerKeys;
  private final Set<String> bidderKeys;
  private final FeedParser parser = new FeedParser();
  private final Map<String, Long> positions = new HashMap<>();
  private final Map<String, WindowOpened> windows = new HashMap<>();
  private final List<Applied> applied = new ArrayList<>();
  private final Deque<Fault> feedPostFaults = new ArrayDeque<>();
  private final Deque<Fault> positionFaults = new ArrayDeque<>();
  private final Deque<Fault> bidFaults = new ArrayDeque<>();
  private final Map<String, String> bids = new HashMap<>();
  private final List<BidCall> bidCalls = new ArrayList<>();
  private final List<String> refusals = new ArrayList<>();
  private Predicate<WindowOpened> refuse = w -> false;
  private int faultsServed;
  private int requests;

  FakeMarketplace(String providerKey, String bidderKey) throws IOException {
    this.providerKeys = Set.of(providerKey);
    this.bidderKeys = Set.of(bidderKey);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/v1/feed", this::feed);
    server.createContext("/v1/bids", this::bid);
    server.start();
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @Override
  public void close() {
    server.stop(0);
  }

  synchronized void setPosition(String key, long lastApplied) {
    positions.put(key, lastApplied);
  }

  synchronized void failNextFeedPosts(Fault... faults) {
    feedPostFaults.addAll(List.of(faults));
  }

  synchronized void failNextPositions(Fault... faults) {
    positionFaults.addAll(List.of(faults));
  }

  synchronized void failNextBids(Fault... faults) {
    bidFaults.addAll(List.of(faults));
  }

  /** Refuses (422) the window.opened lines {@code test} picks. */
  synchronized void refuseWindows(Predicate<WindowOpened> test) {
    this.refuse = test;
  }

  synchronized List<Applied> applied() {
    return List.copyOf(applied);
  }

  synchronized List<BidCall> bidCalls() {
    return List.copyOf(bidCalls);
  }

  synchronized List<String> refusals() {
    return List.copyOf(refusals);
  }

  synchronized int faultsServed() {
    return faultsServed;
  }

  synchronized int requests() {
    return requests;
  }

  // ---- handlers (one at a time: the server's dispatcher thread calls them)

  private synchronized void feed(HttpExchange ex) throws IOException {
    requests++;
    byte[] raw = readAll(ex.getRequestBody());
    String key = bearer(ex);
    if (key == null || !providerKeys.contains(key)) {
      problem(ex, 401, "unauthorized", "provider key required", null);
      return;
    }
    long last = positions.getOrDefault(key, 0L);
    String path = ex.getRequestURI().getPath();
    if (path.equals("/v1/feed/position") && ex.getRequestMethod().equals("GET")) {
      Fault f = positionFaults.poll();
      if (f != null) {
        faultsServed++;
        if (f == Fault.UNAVAILABLE) {
          unavailable(ex, last);
        } else {
          ex.close();
        }
        return;
      }
      ObjectNode o = JSON.createObjectNode().put("lastApplied", last);
      send(ex, 200, "application/json", o.toString());
      return;
    }
    if (!path.equals("/v1/feed") || !ex.getRequestMethod().equals("POST")) {
      problem(ex, 404, "not-found", "no such route", null);
      return;
    }
    Fault f = feedPostFaults.poll();
    if (f != null) {
      faultsServed++;
      if (f == Fault.UNAVAILABLE) {
        unavailable(ex, last);
        return;
      }
      if (f == Fault.DROP_BEFORE_APPLYING) {
        ex.close();
        return;
      }
    }
    Instant now = Instant.now();
    long appliedCount = 0;
    long dups = 0;
    String[] lines = new String(raw, StandardCharsets.UTF_8).split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line =
          lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
      if (line.isBlank()) {
        continue;
      }
      long lineNo = i + 1;
      ParseResult pr = parser.parse(line, lineNo);
      if (pr instanceof FeedError e) {
        refuseLine(ex, key, lineNo, e.field(), e.rule(), line);
        return;
      }
      FeedEvent e = (FeedEvent) pr;
      if (e.seq() <= last) {
        dups++;
        continue;
      }
      if (e.seq() != last + 1) {
        ObjectNode o = problemBody(409, "sequence-gap", "expected seq " + (last + 1));
        o.put("lastApplied", last).put("expected", last + 1);
        send(ex, 409, "application/problem+json", o.toString());
        return;
      }
      String[] broken = broken(e, now);
      if (broken != null) {
        refuseLine(ex, key, lineNo, broken[0], broken[1], line);
        return;
      }
      if (e instanceof WindowOpened o) {
        windows.put(o.windowId(), o);
      }
      last = e.seq();
      positions.put(key, last);
      applied.add(new Applied(e.seq(), e, now));
      appliedCount++;
    }
    if (f == Fault.DROP_AFTER_APPLYING) {
      ex.close();
      return;
    }
    ObjectNode o =
        JSON.createObjectNode()
            .put("lastApplied", last)
            .put("applied", appliedCount)
            .put("duplicates", dups);
    send(ex, 200, "application/json", o.toString());
  }

  /** The field and rule {@code e} breaks against the state, or {@code null}. */
  private String[] broken(FeedEvent e, Instant now) {
    if (e instanceof WindowOpened o) {
      if (windows.containsKey(o.windowId())) {
        return new String[] {"windowId", "must be unique"};
      }
      if (!o.end().isAfter(now)) {
        return new String[] {"end", "must be in the future"};
      }
      if (refuse.test(o)) {
        return new String[] {"nodes", "refused by the test"};
      }
      return null;
    }
    String id =
        e instanceof WindowRevoked r
            ? r.windowId()
            : e instanceof WindowExtended x ? x.windowId() : null;
    if (id == null) {
      return null;
    }
    WindowOpened w = windows.get(id);
    if (w == null) {
      return new String[] {"windowId", "must name an open window"};
    }
    if (e instanceof WindowRevoked r
        && r.kind() == RevocationKind.PLANNED
        && r.at().toEpochMilli() - now.toEpochMilli() < w.noticeSeconds() * 1000L) {
      return new String[] {"at", "must be at least the window's noticeSeconds ahead"};
    }
    return null;
  }

  private void refuseLine(
      HttpExchange ex, String key, long line, String field, String rule, String text)
      throws IOException {
    refusals.add(field + " " + rule + ": " + text);
    ObjectNode o = problemBody(422, "feed-line", rule);
    o.put("line", line);
    if (field == null) {
      o.putNull("field");
    } else {
      o.put("field", field);
    }
    o.put("lastApplied", positions.getOrDefault(key, 0L));
    send(ex, 422, "application/problem+json", o.toString());
  }

  private synchronized void bid(HttpExchange ex) throws IOException {
    requests++;
    String body = new String(readAll(ex.getRequestBody()), StandardCharsets.UTF_8);
    String key = bearer(ex);
    String idem = ex.getRequestHeaders().getFirst("Idempotency-Key");
    Instant now = Instant.now();
    if (key == null || !bidderKeys.contains(key)) {
      bidCalls.add(new BidCall(idem, body, now, "401"));
      problem(ex, 401, "unauthorized", "bidder key required", null);
      return;
    }
    if (idem == null) {
      problem(ex, 400, "idempotency-key", "Idempotency-Key is required", null);
      return;
    }
    Fault f = bidFaults.poll();
    if (f == Fault.UNAVAILABLE) {
      faultsServed++;
      bidCalls.add(new BidCall(idem, body, now, "503"));
      unavailable(ex, 0);
      return;
    }
    if (f == Fault.DROP_BEFORE_APPLYING) {
      faultsServed++;
      bidCalls.add(new BidCall(idem, body, now, "dropped"));
      ex.close();
      return;
    }
    String seen = bids.get(idem);
    String outcome;
    int status;
    if (seen == null) {
      bids.put(idem, body);
      outcome = "created";
      status = 201;
    } else if (seen.equals(body)) {
      outcome = "replayed";
      status = 200;
    } else {
      outcome = "conflict";
      status = 409;
    }
    if (f == Fault.DROP_AFTER_APPLYING) {
      faultsServed++;
      bidCalls.add(new BidCall(idem, body, now, outcome + ", dropped"));
      ex.close();
      return;
    }
    bidCalls.add(new BidCall(idem, body, now, outcome));
    if (status == 409) {
      problem(ex, 409, "idempotency-conflict", "another body under this key", null);
    } else {
      send(ex, status, "application/json", JSON.createObjectNode().put("id", idem).toString());
    }
  }

  private static void unavailable(HttpExchange ex, long last) throws IOException {
    ObjectNode o = problemBody(503, "unavailable", "cannot persist now");
    o.put("lastApplied", last);
    ex.getResponseHeaders().add("Retry-After", "0");
    send(ex, 503, "application/problem+json", o.toString());
  }

  private static String bearer(HttpExchange ex) {
    String h = ex.getRequestHeaders().getFirst("Authorization");
    return h != null && h.startsWith("Bearer ") ? h.substring(7) : null;
  }

  private static ObjectNode problemBody(int status, String type, String detail) {
    return JSON.createObjectNode()
        .put("type", "https://surplus.example/problems/" + type)
        .put("status", status)
        .put("detail", detail);
  }

  private static void problem(HttpExchange ex, int status, String type, String detail, String f)
      throws IOException {
    send(ex, status, "application/problem+json", problemBody(status, type, detail).toString());
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  private static byte[] readAll(InputStream in) throws IOException {
    try (in) {
      return in.readAllBytes();
    }
  }
}
