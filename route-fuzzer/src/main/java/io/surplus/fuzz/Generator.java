package io.surplus.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.fuzz.Exchange.Learn;
import io.surplus.fuzz.Exchange.Oracle;
import io.surplus.fuzz.Exchange.Request;
import io.surplus.fuzz.OpenApi.Operation;
import io.surplus.fuzz.OpenApi.Param;
import io.surplus.fuzz.Values.V;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Makes request number {@code i} of a run from the seed alone and what the service has shown so
 * far: an operation of the document, a caller, valid values for every parameter, header and body
 * field (from the schema, from hints where the schema says too little, and from ids, cursors and
 * epochs seen), then none, one or a few of them replaced by hostile values. The request carries the
 * label of what it tried, an oracle for what it must not be answered, and what to learn from its
 * answer.
 */
final class Generator {

  /** Bid statuses of {@code GET /v1/bids?status=}: the document lists them in prose only. */
  static final List<String> BID_STATUSES =
      List.of("pending", "open", "filled", "cancelled", "expired", "unfilled", "rejected");

  static final List<String> INTERVALS = List.of("1m", "15m", "1h");

  private final World world;
  private final long seed;
  private final List<Operation> schedule;

  Generator(World world, long seed, List<Operation> operations) {
    this.world = world;
    this.seed = seed;
    // every operation in turn; writes twice as often, since they make the state others read
    List<Operation> s = new ArrayList<>();
    for (Operation op : operations) {
      s.add(op);
      if (!op.method().equals("GET")) {
        s.add(op);
      }
    }
    this.schedule = List.copyOf(s);
  }

  /** The operation request {@code index} exercises. */
  Operation operation(long index) {
    return schedule.get((int) Math.floorMod(index, (long) schedule.size()));
  }

  static SplittableRandom random(long seed, long index) {
    return new SplittableRandom(seed * 0x9E37_79B9_7F4A_7C15L + index * 0xBF58_476D_1CE4_E5B9L);
  }

  private static final java.util.function.Predicate<String> BODY_SLOT =
      k ->
          k.startsWith("body")
              || k.startsWith("field.")
              || k.startsWith("item")
              || k.startsWith("line")
              || k.equals("seq");

  /** The mutable parts of a request while it is made. */
  private final class Draft {
    final long index;
    final Operation op;
    final SplittableRandom rng;
    final Instant now = Instant.now(world.clock);
    String method;
    String role;
    String key;
    final Map<String, String> path = new LinkedHashMap<>();
    final Map<String, List<String>> query = new LinkedHashMap<>();
    final List<String[]> headers = new ArrayList<>();
    String idempotencyKey;
    String contentType;
    boolean keepIdempotencyKey;
    // JSON bodies: fields as raw JSON tokens; a batch: its items; the feed: its lines
    Map<String, String> fields;
    List<Map<String, String>> items;
    List<Map<String, String>> lines;
    byte[] rawBody;
    final List<String> labels = new ArrayList<>();
    final List<String> tags = new ArrayList<>();
    // per slot (a field of an item, a line's field, a header): the value it ends with
    final Map<String, V> finals = new LinkedHashMap<>();
    String market;
    FeedDraft feed;
    boolean seqMutated;

    Draft(long index, Operation op, SplittableRandom rng) {
      this.index = index;
      this.op = op;
      this.rng = rng;
      this.method = op.method();
    }

    void mark(String label, V v) {
      mark(label, label, v);
    }

    /** Records a value put in {@code slot}; a later value in the same slot replaces it. */
    void mark(String slot, String label, V v) {
      labels.add(label + "=" + v.label());
      finals.put(slot, new V(label + "=" + v.label(), v.text(), v.refuse()));
    }

    /** The body is replaced whole: what its fields, items and lines held is no longer sent. */
    void bodyReplaced() {
      finals.keySet().removeIf(BODY_SLOT);
    }

    /** Forgets the values put in one feed line, which is replaced. */
    void lineReplaced(int i) {
      finals.keySet().removeIf(k -> k.startsWith("line" + i + "."));
    }

    /** The final values that must be refused, outside batch items. */
    List<String> refusing() {
      List<String> out = new ArrayList<>();
      boolean bidder = fields == null || "\"bidder\"".equals(fields.get("role"));
      finals.forEach(
          (slot, v) -> {
            if (slot.equals("field.creditLimit") && !bidder) {
              return;
            }
            if (v.refuse() && !slot.startsWith("item[")) {
              out.add(v.label());
            }
          });
      return out;
    }

    /** The first batch item whose final values must be refused, or -1. */
    int refusedItem() {
      for (Map.Entry<String, V> e : finals.entrySet()) {
        if (e.getValue().refuse() && e.getKey().startsWith("item[")) {
          return Integer.parseInt(e.getKey().substring(5, e.getKey().indexOf(']')));
        }
      }
      return -1;
    }
  }

  Request next(long index) {
    SplittableRandom rng = random(seed, index);
    Operation op = operation(index);
    Draft d = new Draft(index, op, rng);
    caller(d);
    validParams(d);
    validBody(d);
    int mode = rng.nextInt(100);
    int mutations = mode < 25 ? 0 : mode < 90 ? 1 : 2 + rng.nextInt(2);
    List<String> targets = targets(op);
    for (int m = 0; m < mutations; m++) {
      // the method and an oversized header are tried now and then: the server answers them alike
      String target =
          rng.nextInt(25) == 0
              ? (rng.nextBoolean() ? "method" : "header.X-Fuzz")
              : targets.get(rng.nextInt(targets.size()));
      mutate(d, target);
    }
    return assemble(d);
  }

  // ---- callers

  private void caller(Draft d) {
    List<String> roles = new ArrayList<>(d.op.roles());
    String role;
    if (roles.isEmpty()) {
      role = d.rng.nextInt(4) == 0 ? pickRole(d.rng) : "none";
    } else {
      java.util.Collections.sort(roles);
      role = roles.get(d.rng.nextInt(roles.size()));
    }
    setRole(d, role);
  }

  private static String pickRole(SplittableRandom rng) {
    return List.of("bidder", "provider", "admin").get(rng.nextInt(3));
  }

  private void setRole(Draft d, String role) {
    d.role = role;
    d.key = null;
    if (!role.equals("none")) {
      List<World.Account> as = world.accounts(role);
      if (!as.isEmpty()) {
        // mostly the first (the fuzzer's own), sometimes any other of the role
        d.key = as.get(d.rng.nextInt(4) == 0 ? d.rng.nextInt(as.size()) : 0).key();
      }
    }
  }

  // ---- valid values

  private String model(Draft d) {
    if (d.market == null) {
      d.market = world.markets.get(d.rng.nextInt(world.markets.size())).model();
    }
    return d.market;
  }

  private void validParams(Draft d) {
    for (Param p : d.op.params()) {
      switch (p.in()) {
        case "path" -> d.path.put(p.name(), validPath(d, p.name()));
        case "query" -> {
          if (p.required() || d.rng.nextBoolean()) {
            String v = validQuery(d, p);
            if (v != null) {
              d.query.put(p.name(), new ArrayList<>(List.of(v)));
            }
          }
        }
        case "header" -> {
          if (p.name().equalsIgnoreCase("Idempotency-Key")) {
            d.idempotencyKey = freshKey(d);
          }
        }
        default -> {}
      }
    }
    if (d.op.hasBody()) {
      d.contentType = d.op.bodyType();
    }
  }

  private String freshKey(Draft d) {
    return "fz-" + Long.toHexString(seed) + "-" + d.index;
  }

  private String validPath(Draft d, String name) {
    String t = d.op.template();
    switch (name) {
      case "gpuModel":
        return model(d);
      case "n":
        {
          Long e = world.epoch(d.rng);
          return Long.toString(e == null ? 1 : e);
        }
      case "asset":
        {
          String a = world.boardAsset(d.rng);
          return a == null ? "app.js" : a;
        }
      case "version":
      case "file":
        {
          String f = world.echartsFile(d.rng);
          String[] parts = (f == null ? "5.5.0/echarts.min.js" : f).split("/", 2);
          return name.equals("version") ? parts[0] : parts[1];
        }
      case "id":
        if (t.contains("leases")) {
          String l = world.leaseId(d.rng);
          return l == null ? "lease_" + model(d) + "_1" : l;
        }
        {
          String b = world.bidId(d.rng);
          return b == null ? "bid_" + World.accountOf(d.key) + "_1" : b;
        }
      default:
        return "x";
    }
  }

  private String validQuery(Draft d, Param p) {
    Instant now = d.now;
    return switch (p.name()) {
      case "status" -> BID_STATUSES.get(d.rng.nextInt(BID_STATUSES.size()));
      case "cursor" -> world.cursor(d.rng, d.op.label());
      case "limit" -> Integer.toString(1 + d.rng.nextInt(d.rng.nextBoolean() ? 5 : 500));
      case "day" -> {
        String day = world.day(d.rng);
        yield day == null ? now.toString().substring(0, 10) : day;
      }
      case "interval" -> INTERVALS.get(d.rng.nextInt(INTERVALS.size()));
      case "from" -> now.minusSeconds(3600L * (1 + d.rng.nextInt(48))).toString();
      case "to" -> now.plusSeconds(60).toString();
      case "markets" -> model(d);
      case "key" -> null;
      default -> {
        JsonNode s = p.schema();
        yield s != null && "integer".equals(s.path("type").asText())
            ? Long.toString(s.path("minimum").asLong(1))
            : "x";
      }
    };
  }

  /** A bid or window time range inside the horizon: {start, end} and a duration in minutes. */
  private long[] range(Draft d) {
    long slot = world.slotSeconds;
    long now = d.now.getEpochSecond();
    long horizon = world.horizonEnd.getEpochSecond();
    long span = Math.max(slot * 8, horizon - now - 2 * slot);
    long start = now + slot + (d.rng.nextLong(Math.max(1, span / 4)) / slot) * slot;
    long slotMinutes = Math.max(1, slot / 60);
    long minutes = slotMinutes * (1 + d.rng.nextInt(8));
    if (slot < 60) {
      minutes = 1 + d.rng.nextInt(60);
    }
    long end = start + minutes * 60 + slot + (d.rng.nextLong(Math.max(1, span / 4)) / slot) * slot;
    end = Math.min(end, horizon - slot);
    return new long[] {start, end, minutes};
  }

  private static String instant(long seconds) {
    return Values.q(Instant.ofEpochSecond(seconds).toString());
  }

  private String price(Draft d, int minCents, int maxCents) {
    int cents = minCents + d.rng.nextInt(maxCents - minCents + 1);
    return Values.q((cents / 100) + "." + String.format("%02d", cents % 100));
  }

  private String region(Draft d) {
    return world.regions.get(d.rng.nextInt(world.regions.size()));
  }

  private void validBody(Draft d) {
    if (!d.op.hasBody()) {
      return;
    }
    if (d.op.bodyType().contains("ndjson")) {
      d.lines = new ArrayList<>();
      if (d.key != null) {
        feedLines(d);
      }
      return;
    }
    JsonNode schema = d.op.bodySchema();
    JsonNode items = schema.path("properties").path("bids").path("items");
    if (items.isObject() && schema.path("required").toString().contains("bids")) {
      d.items = new ArrayList<>();
      int n = 1 + d.rng.nextInt(d.rng.nextInt(4) == 0 ? 20 : 4);
      for (int i = 0; i < n; i++) {
        d.items.add(object(d, items));
      }
      return;
    }
    d.fields = object(d, schema);
  }

  /** A valid object of {@code schema}: every required property, each optional one half the time. */
  private Map<String, String> object(Draft d, JsonNode schema) {
    Map<String, String> out = new LinkedHashMap<>();
    long[] range = range(d);
    List<String> required = new ArrayList<>();
    schema.path("required").forEach(r -> required.add(r.asText()));
    Iterator<Map.Entry<String, JsonNode>> props = schema.path("properties").fields();
    while (props.hasNext()) {
      Map.Entry<String, JsonNode> p = props.next();
      if (!required.contains(p.getKey()) && d.rng.nextInt(3) == 0) {
        continue;
      }
      String v = validField(d, p.getKey(), p.getValue(), range, out);
      if (v != null) {
        out.put(p.getKey(), v);
      }
    }
    return out;
  }

  private String validField(
      Draft d, String name, JsonNode s, long[] range, Map<String, String> sofar) {
    switch (name) {
      case "gpuModel":
        return Values.q(model(d));
      case "nodes":
        return Integer.toString(1 + d.rng.nextInt(d.op.template().contains("windows") ? 64 : 8));
      case "minNodes":
        {
          String nodes = sofar.get("nodes");
          int n = nodes == null ? 1 : Integer.parseInt(nodes);
          return Integer.toString(1 + d.rng.nextInt(n));
        }
      case "durationMinutes":
        return Long.toString(range[2]);
      case "earliestStart":
      case "start":
        return instant(range[0]);
      case "latestEnd":
      case "end":
        return instant(range[1]);
      case "expiresAt":
        return instant(range[0] + (range[1] - range[0]) / 2);
      case "limitPrice":
        return price(d, 50, 2000);
      case "reservePrice":
        return price(d, 10, 500);
      case "regions":
        return "[" + Values.q(region(d)) + "]";
      case "region":
        return Values.q(region(d));
      case "pool":
        return Values.q("fz-pool-" + d.rng.nextInt(4));
      case "gpusPerNode":
        return Integer.toString(world.gpusPerNode(model(d)));
      case "noticeSeconds":
      case "minNoticeSeconds":
        return Integer.toString(60 * d.rng.nextInt(31));
      case "confidence":
        return Values.q("0." + (50 + d.rng.nextInt(50)));
      case "role":
        return Values.q(d.rng.nextInt(4) == 0 ? pickRole(d.rng) : "bidder");
      case "name":
        return Values.q("fuzz " + d.index);
      case "creditLimit":
        return Values.q("1000.00");
      case "url":
        return Values.q("https://example.com/fz/" + d.index);
      default:
        return generic(d, s);
    }
  }

  private String generic(Draft d, JsonNode s) {
    if (s == null) {
      return null;
    }
    if (s.has("enum")) {
      JsonNode e = s.get("enum");
      return Values.q(e.get(d.rng.nextInt(e.size())).asText());
    }
    return switch (s.path("type").asText()) {
      case "integer" -> Long.toString(s.path("minimum").asLong(1));
      case "boolean" -> Boolean.toString(d.rng.nextBoolean());
      case "array" -> "[]";
      case "object" -> "{}";
      default -> Values.q("fz");
    };
  }

  // ---- the feed

  /** A feed body's provider and the position its lines were made from. */
  record FeedDraft(String provider, long from) {}

  /**
   * Valid lines from the provider's last applied sequence: windows opened, extended and revoked
   * (its own, seen applied), heartbeats. Made while the caller holds the feed lock.
   */
  private void feedLines(Draft d) {
    SplittableRandom rng = d.rng;
    String provider = d.key;
    long from = world.feedSeq(provider);
    int n = 1 + rng.nextInt(rng.nextInt(3) == 0 ? 6 : 2);
    long slot = world.slotSeconds;
    for (int i = 0; i < n; i++) {
      long seq = from + 1 + i;
      Map<String, String> line = new LinkedHashMap<>();
      World.FeedWindow own = world.feedWindow(rng, provider, model(d));
      int kind = rng.nextInt(100);
      String type =
          own == null || kind < 40
              ? "window.opened"
              : kind < 55 ? "window.extended" : kind < 80 ? "window.revoked" : "heartbeat";
      line.put("type", Values.q(type));
      line.put("seq", Long.toString(seq));
      switch (type) {
        case "window.opened" -> {
          long[] r = range(d);
          String id = world.newFeedWindowId(provider, seed);
          String model = model(d); // one market per feed body: a stopped one is let be whole
          String region = region(d);
          int nodes = 1 + rng.nextInt(64);
          int gpus = world.gpusPerNode(model);
          String reserve = price(d, 10, 500);
          int notice = 60 * rng.nextInt(31);
          line.put("windowId", Values.q(id));
          line.put("gpuModel", Values.q(model));
          line.put("pool", Values.q("fz-pool-" + rng.nextInt(4)));
          line.put("region", Values.q(region));
          line.put("nodes", Integer.toString(nodes));
          line.put("gpusPerNode", Integer.toString(gpus));
          line.put("start", instant(r[0]));
          line.put("end", instant(r[1]));
          line.put("reservePrice", reserve);
          line.put("noticeSeconds", Integer.toString(notice));
          if (rng.nextBoolean()) {
            line.put("confidence", Values.q("0.9"));
          }
        }
        case "window.extended" -> {
          line.put("windowId", Values.q(own.windowId()));
          long end =
              Math.min(
                  own.end().getEpochSecond() + slot * (1 + rng.nextInt(8)),
                  world.horizonEnd.getEpochSecond() - slot);
          line.put("end", instant(end));
        }
        case "window.revoked" -> {
          line.put("windowId", Values.q(own.windowId()));
          line.put("kind", Values.q("emergency"));
          long at =
              Math.max(d.now.getEpochSecond() + slot, own.start().getEpochSecond())
                  + slot * rng.nextInt(4);
          line.put("at", instant(at));
          if (rng.nextBoolean()) {
            line.put("nodes", "1");
          } else {
            line.put("end", instant(at));
          }
        }
        default -> {
          if (rng.nextBoolean()) {
            line.put("at", instant(d.now.getEpochSecond()));
          }
        }
      }
      d.lines.add(line);
    }
    d.feed = new FeedDraft(provider, from);
  }

  private void mutateLine(Draft d) {
    SplittableRandom rng = d.rng;
    if (d.lines == null || d.lines.isEmpty() || d.rawBody != null) {
      return;
    }
    int i = rng.nextInt(d.lines.size());
    Map<String, String> line = d.lines.get(i);
    String type = line.get("type");
    List<String> names = new ArrayList<>(line.keySet());
    names.remove("seq");
    names.add("unknown-field");
    String name = names.get(rng.nextInt(names.size()));
    List<V> vs = new ArrayList<>();
    // an earlier mutation of this draft may have taken the line's type away
    boolean heartbeat = type != null && type.contains("heartbeat");
    switch (name) {
      case "at", "start", "end" -> {
        for (V x : Values.instants(d.now, world.horizonEnd, !heartbeat)) {
          vs.add(new V(x.label(), Values.q(x.text()), x.refuse()));
        }
      }
      case "nodes" -> vs.addAll(Values.integers(1, 16_384));
      case "gpusPerNode" -> vs.addAll(Values.integers(1, 64));
      case "noticeSeconds" -> vs.addAll(Values.integers(0, 604_800));
      case "reservePrice" -> vs.addAll(Values.prices());
      case "confidence" -> vs.addAll(Values.probabilities());
      case "unknown-field" -> vs.add(V.bad("unknown-field", "1"));
      default -> {
        for (V x : Values.strings()) {
          vs.add(V.bad(x.label(), x.text()));
        }
      }
    }
    List<V> cs = Values.confusions(true);
    V v = rng.nextInt(5) == 0 ? cs.get(rng.nextInt(cs.size())) : vs.get(rng.nextInt(vs.size()));
    if (rng.nextInt(12) == 0 && !name.equals("unknown-field")) {
      v =
          new V(
              "absent",
              null,
              !name.equals("confidence") && !name.equals("gpusPerNode") && !heartbeat);
    }
    if (name.equals("unknown-field")) {
      line.put("colour", v.text());
    } else if (v.text() == null) {
      line.remove(name);
    } else {
      line.put(name, v.text());
    }
    String shortType = type.replace("\"", "").replace("window.", "");
    d.mark("line" + i + "." + name, "line[" + shortType + "]." + name, v);
  }

  /**
   * A revocation of one of the provider's own open windows at an instant far beyond the horizon (or
   * before the epoch): the line that stopped a market for good (issue 11, finding 1).
   */
  private void revokeFar(Draft d) {
    SplittableRandom rng = d.rng;
    World.FeedWindow own = world.feedWindow(rng, d.key, model(d));
    if (d.lines == null || d.lines.isEmpty() || d.rawBody != null || own == null) {
      return;
    }
    int i = rng.nextInt(d.lines.size());
    Map<String, String> line = new LinkedHashMap<>();
    line.put("type", Values.q("window.revoked"));
    line.put("seq", d.lines.get(i).get("seq"));
    line.put("windowId", Values.q(own.windowId()));
    line.put("kind", Values.q(rng.nextBoolean() ? "emergency" : "planned"));
    List<V> far = new ArrayList<>();
    for (V x : Values.instants(d.now, world.horizonEnd, true)) {
      if (x.label().startsWith("year")
          || x.label().startsWith("instant")
          || x.label().startsWith("horizon+")) {
        far.add(x);
      }
    }
    V at = far.get(rng.nextInt(far.size()));
    line.put("at", Values.q(at.text()));
    if (rng.nextBoolean()) {
      line.put("nodes", "1");
    } else {
      line.put("end", Values.q(at.text()));
    }
    d.lines.set(i, line);
    d.lineReplaced(i);
    d.mark("line" + i + ".at", "revoke-own-window.at", at);
  }

  private void mutateSeq(Draft d) {
    SplittableRandom rng = d.rng;
    if (d.lines == null || d.lines.isEmpty() || d.rawBody != null) {
      return;
    }
    long from = d.feed.from();
    List<V> vs =
        List.of(
            V.bad("gap", Long.toString(from + 6)),
            V.ok("duplicate", Long.toString(Math.max(1, from))),
            V.bad("zero", "0"),
            V.bad("negative", "-1"),
            V.bad("long-max", "9223372036854775807"),
            V.bad("long-max+1", "9223372036854775808"),
            V.bad("digits-1200", Values.DIGITS_1200),
            V.bad("string", "\"" + (from + 1) + "\""));
    V v = vs.get(rng.nextInt(vs.size()));
    d.lines.get(0).put("seq", v.text());
    d.seqMutated = true;
    d.mark("seq", v);
  }

  // ---- targets and mutations

  private List<String> targets(Operation op) {
    List<String> t = new ArrayList<>();
    t.add("auth");
    t.add("auth");
    for (Param p : op.params()) {
      t.add(p.in() + "." + p.name());
      t.add(p.in() + "." + p.name());
    }
    if (op.hasBody()) {
      t.add("content-type");
      t.add("body");
      if (op.bodyType().contains("ndjson")) {
        for (int i = 0; i < 8; i++) {
          t.add("line");
        }
        t.add("seq");
        t.add("revoke-far");
        t.add("revoke-far");
      } else {
        JsonNode schema = op.bodySchema();
        JsonNode items = schema.path("properties").path("bids").path("items");
        JsonNode props = items.isObject() ? items.path("properties") : schema.path("properties");
        String prefix = items.isObject() ? "item." : "field.";
        props.fieldNames().forEachRemaining(n -> t.add(prefix + n));
        props.fieldNames().forEachRemaining(n -> t.add(prefix + n));
        if (items.isObject()) {
          t.add("items");
        }
      }
    }
    return t;
  }

  private void mutate(Draft d, String target) {
    SplittableRandom rng = d.rng;
    int dot = target.indexOf('.');
    String kind = dot < 0 ? target : target.substring(0, dot);
    String name = dot < 0 ? "" : target.substring(dot + 1);
    switch (kind) {
      case "auth" -> mutateAuth(d);
      case "path" -> {
        V v = pathValue(d, name);
        d.path.put(name, v.text());
        d.mark("path." + name, v);
      }
      case "query" -> {
        V v = queryValue(d, name);
        if (v.label().equals("repeated")) {
          d.query.computeIfAbsent(name, k -> new ArrayList<>()).add(v.text());
          d.query.get(name).add(v.text());
        } else if (v.label().equals("absent")) {
          d.query.remove(name);
        } else {
          d.query.put(name, new ArrayList<>(List.of(v.text())));
        }
        d.mark("query." + name, v);
      }
      case "header" -> {
        if (name.equalsIgnoreCase("Idempotency-Key")) {
          mutateIdempotencyKey(d);
        } else {
          d.headers.add(new String[] {"X-Fuzz", "x".repeat(20_000)});
          d.mark("header.X-Fuzz", V.ok("20k", ""));
        }
      }
      case "content-type" -> {
        List<V> cts = new ArrayList<>();
        for (V ct : Values.wrongContentTypes()) {
          // NDJSON is text: a feed sent as text/plain is not clearly wrong
          boolean lenient = d.op.bodyType().contains("ndjson") && ct.label().equals("text/plain");
          cts.add(lenient ? V.ok(ct.label(), ct.text()) : ct);
        }
        cts.add(V.ok("none", ""));
        cts.add(V.ok("json-utf16-claimed", "application/json; charset=utf-16"));
        cts.add(
            d.op.bodyType().contains("ndjson")
                ? V.ok("application/json", "application/json")
                : V.bad("application/x-ndjson", "application/x-ndjson"));
        V v = cts.get(rng.nextInt(cts.size()));
        d.contentType = v.label().equals("none") ? null : v.text();
        d.mark("content-type", v);
      }
      case "body" -> mutateBody(d);
      case "field" -> {
        if (d.fields != null && d.rawBody == null) {
          mutateField(d, d.fields, name, d.op.bodySchema(), "field.");
        }
      }
      case "item" -> {
        if (d.items != null && !d.items.isEmpty() && d.rawBody == null) {
          int i = rng.nextInt(d.items.size());
          JsonNode items = d.op.bodySchema().path("properties").path("bids").path("items");
          // the batch answers per item: a refused value must keep its item unplaced
          mutateField(d, d.items.get(i), name, items, "item[" + i + "].");
        }
      }
      case "items" -> {
        if (d.rawBody != null) {
          return;
        }
        V v = rng.nextBoolean() ? V.bad("1001-items", "") : V.bad("empty", "");
        if (v.label().equals("empty")) {
          d.items.clear();
        } else {
          Map<String, String> one = d.items.get(0);
          d.items.clear();
          for (int i = 0; i < 1001; i++) {
            d.items.add(one);
          }
        }
        d.mark("items", v);
      }
      case "line" -> mutateLine(d);
      case "revoke-far" -> revokeFar(d);
      case "seq" -> mutateSeq(d);
      case "method" -> {
        List<String> methods = List.of("PUT", "PATCH", "DELETE", "POST", "GET", "BREW", "OPTIONS");
        String m = methods.get(rng.nextInt(methods.size()));
        if (!m.equals(d.method)) {
          d.method = m;
          d.mark("method", V.ok(m, m));
        }
      }
      default -> {}
    }
  }

  private void mutateAuth(Draft d) {
    SplittableRandom rng = d.rng;
    boolean secured = d.op.secured();
    long real = World.accountOf(d.key);
    List<V> vs = new ArrayList<>();
    vs.add(new V("none", null, secured));
    vs.add(
        new V(
            "unknown-account",
            "Bearer sk_" + (900_000_000L + rng.nextInt(1_000_000)) + "_" + "Z".repeat(32),
            secured));
    vs.add(new V("wrong-secret", "Bearer sk_" + Math.max(real, 1) + "_" + "Z".repeat(32), secured));
    vs.add(new V("garbage", "Bearer !!!", secured));
    vs.add(new V("basic", "Basic dXNlcjpwYXNz", secured));
    vs.add(new V("bearer-empty", "Bearer ", secured));
    vs.add(new V("key-10k", "Bearer sk_1_" + "a".repeat(10_000), secured));
    vs.add(new V("digits-1200", "Bearer sk_" + Values.DIGITS_1200 + "_x", secured));
    for (String role : List.of("bidder", "provider", "admin")) {
      if (!world.accounts(role).isEmpty()) {
        vs.add(new V("role-" + role, role, secured && !d.op.roles().contains(role)));
      }
    }
    V v = vs.get(rng.nextInt(vs.size()));
    if (v.label().startsWith("role-")) {
      setRole(d, v.text());
    } else {
      d.role = v.label();
      d.key = v.text() == null ? null : "\u0000" + v.text(); // a raw Authorization value
    }
    d.mark("auth", v);
  }

  private void mutateIdempotencyKey(Draft d) {
    SplittableRandom rng = d.rng;
    boolean write = true;
    List<String> options =
        List.of(
            "missing",
            "empty",
            "space",
            "256-chars",
            "255-chars",
            "non-ascii",
            "tab",
            "reuse-same",
            "reuse-other",
            "batch-item-key",
            "hash-zero");
    String o = options.get(rng.nextInt(options.size()));
    V v;
    switch (o) {
      case "missing" -> {
        d.idempotencyKey = null;
        v = new V(o, "", write);
      }
      case "empty" -> {
        d.idempotencyKey = "";
        v = new V(o, "", write);
      }
      case "space" -> {
        d.idempotencyKey = " ";
        v = new V(o, " ", write);
      }
      case "256-chars" -> {
        d.idempotencyKey = "k".repeat(256);
        v = V.bad(o, "");
      }
      case "255-chars" -> {
        d.idempotencyKey = ("k" + d.index + "-").repeat(100).substring(0, 255);
        v = V.ok(o, "");
      }
      case "non-ascii" -> {
        d.idempotencyKey = "clé-" + d.index;
        v = V.ok(o, ""); // the client may send it as '?': not the service's to refuse
      }
      case "tab" -> {
        d.idempotencyKey = "a\tb" + d.index;
        v = V.bad(o, "");
      }
      case "reuse-same", "reuse-other" -> {
        String[] used = world.usedKey(rng, d.op.label() + "|" + d.key);
        if (used == null) {
          return;
        }
        d.idempotencyKey = used[0];
        if (o.equals("reuse-same")) {
          d.rawBody = used[1].getBytes(StandardCharsets.UTF_8);
          d.bodyReplaced();
          d.keepIdempotencyKey = true;
          v = V.ok(o, "");
        } else {
          // the body differs (a fresh one): 422 idempotency-key-reused; a batch answers per item
          v = d.op.template().contains("batch") ? V.ok(o, "") : V.bad(o, "");
          d.keepIdempotencyKey = true;
        }
      }
      case "batch-item-key", "hash-zero" -> {
        String batch = world.batchKey(rng, d.key);
        if (o.equals("hash-zero")) {
          d.idempotencyKey = "K" + d.index + "#0";
          v = V.ok(o, "");
        } else {
          if (batch == null) {
            return;
          }
          d.idempotencyKey = batch + "#" + rng.nextInt(2);
          v = V.ok(o, "");
        }
      }
      default -> throw new IllegalStateException(o);
    }
    d.mark("header.Idempotency-Key", v);
  }

  private V pathValue(Draft d, String name) {
    SplittableRandom rng = d.rng;
    List<V> vs = new ArrayList<>(Values.params());
    long acct = Math.max(1, World.accountOf(d.key));
    switch (name) {
      case "id" -> {
        if (d.op.template().contains("leases")) {
          vs.add(V.ok("forged-lease", "lease_" + model(d) + "_9223372036854775807"));
          vs.add(V.ok("lease-digits", "lease_" + model(d) + "_" + Values.DIGITS_1200));
          vs.add(V.ok("lease-unknown-model", "lease_Z9000_1"));
        } else {
          vs.add(V.ok("forged-bid", "bid_" + acct + "_999999999"));
          vs.add(V.ok("bid-long-max", "bid_" + acct + "_9223372036854775807"));
          vs.add(V.ok("bid-other-account", "bid_1_1"));
          vs.add(V.ok("bid-zero", "bid_0_0"));
          vs.add(V.ok("bid-negative", "bid_-1_-1"));
          vs.add(V.ok("bid-digits", "bid_" + Values.DIGITS_1200 + "_1"));
          vs.add(V.ok("window-id", "win_" + acct + "_1"));
        }
        String seen = d.op.template().contains("leases") ? world.bidId(rng) : world.leaseId(rng);
        if (seen != null) {
          vs.add(V.ok("id-of-other-kind", seen));
        }
        String win = world.windowId(rng);
        if (win != null) {
          vs.add(V.ok("seen-window-id", win));
        }
      }
      case "gpuModel" -> {
        vs.add(V.ok("lowercase", model(d).toLowerCase(java.util.Locale.ROOT)));
        vs.add(V.ok("unknown-model", "Z9000-XL"));
      }
      case "n" -> {
        for (V n : Values.integers(1, Long.MAX_VALUE)) {
          vs.add(V.ok(n.label(), n.text()));
        }
      }
      default -> {}
    }
    return vs.get(rng.nextInt(vs.size()));
  }

  private V queryValue(Draft d, String name) {
    SplittableRandom rng = d.rng;
    List<V> vs = new ArrayList<>(Values.params());
    vs.add(V.ok("repeated", validQueryOr(d, name)));
    vs.add(V.ok("absent", ""));
    switch (name) {
      case "cursor" -> {
        vs.addAll(Values.cursors(rng, d.now));
        vs.addAll(Values.cursors(rng, d.now)); // cursors are the point of this parameter
      }
      case "limit" -> {
        for (V n : Values.integers(1, 500)) {
          vs.add(V.ok(n.label(), n.text()));
        }
      }
      case "from", "to" -> {
        for (V i : Values.instants(d.now, world.horizonEnd, false)) {
          vs.add(V.ok(i.label(), i.text()));
          vs.add(V.ok(i.label(), i.text()));
        }
      }
      case "day" -> {
        vs.add(V.ok("day-9999-12-31", "9999-12-31"));
        vs.add(V.ok("day-0000-01-01", "0000-01-01"));
        vs.add(V.ok("day-feb-30", "2025-02-30"));
        vs.add(V.ok("day+1e9", "+1000000000-01-01"));
        vs.add(V.ok("day-negative", "-0001-01-01"));
        vs.add(V.ok("day-short", "2025-1-1"));
        vs.add(V.ok("day-1970", "1970-01-01"));
      }
      case "interval" -> {
        vs.add(V.ok("0m", "0m"));
        vs.add(V.ok("huge", "1000000000h"));
        vs.add(V.ok("negative", "-1m"));
        vs.add(V.ok("month", "1M"));
      }
      case "markets" -> {
        vs.add(V.ok("empty-items", ",,"));
        vs.add(V.ok("unknown", "Z9000-XL"));
        vs.add(V.ok("many", String.join(",", java.util.Collections.nCopies(500, model(d)))));
      }
      case "key" -> {
        World.Account b = world.accounts("bidder").stream().findFirst().orElse(null);
        if (b != null) {
          vs.add(V.ok("full-bidder-key", b.key()));
        }
        vs.add(V.ok("unknown-account", "sk_987654321_" + "Z".repeat(32)));
      }
      case "status" -> vs.add(V.ok("uppercase", "OPEN"));
      default -> {}
    }
    return vs.get(rng.nextInt(vs.size()));
  }

  private String validQueryOr(Draft d, String name) {
    for (Param p : d.op.params()) {
      if (p.name().equals(name)) {
        String v = validQuery(d, p);
        if (v != null) {
          return v;
        }
      }
    }
    return "x";
  }

  private void mutateBody(Draft d) {
    SplittableRandom rng = d.rng;
    boolean feed = d.op.bodyType().contains("ndjson");
    String valid = jsonBody(d);
    List<V> vs = new ArrayList<>();
    vs.add(new V("empty", "", !feed)); // a feed body without lines applies nothing, rightly
    String half = valid.substring(0, Math.max(1, valid.length() / 2));
    if (feed) {
      // a feed body cut at a line's end is whole lines, rightly applied: cut inside the last one
      half = half.stripTrailing();
      half = half.endsWith("}") ? half.substring(0, half.length() - 1) : half;
    }
    vs.add(V.bad("malformed", half));
    vs.add(V.bad("json-null", "null"));
    vs.add(V.bad("json-array", "[]"));
    vs.add(V.bad("deep-array", "[".repeat(5000) + "]".repeat(5000)));
    vs.add(V.bad("number-1200-digits", Values.DIGITS_1200));
    vs.add(V.ok("bom", "\uFEFF" + valid));
    vs.add(V.ok("trailing-garbage", valid + " xyz"));
    vs.add(V.ok("invalid-utf8", ""));
    vs.add(V.ok("unicode-escapes", valid.replace("\"", "\"").replace(":\"", ":\"\\u0041")));
    if (!feed) {
      vs.add(V.bad("unknown-field", valid.replaceFirst("\\{", "{\"colour\":\"blue\",")));
      vs.add(V.ok("duplicate-key", valid.replaceFirst("\\{", "{\"" + firstKey(d) + "\":null,")));
      String pad = "x".repeat(d.op.template().contains("batch") ? 2_200_000 : 70_000);
      vs.add(V.bad("oversized", valid.replaceFirst("\\{", "{\"pad\":\"" + pad + "\",")));
    } else {
      vs.add(V.ok("blank-lines", "\n\n\r\n"));
      vs.add(
          V.bad(
              "line-17k",
              "{\"type\":\"heartbeat\",\"seq\":1,\"pad\":\"" + "x".repeat(17_000) + "\"}\n"));
      vs.add(V.bad("not-json-line", "hello\n"));
      // the feed streams its body: a long body of lines already applied is no error
      vs.add(V.ok("long-body", ("{\"type\":\"heartbeat\",\"seq\":1}\n").repeat(40_000)));
    }
    V v = vs.get(rng.nextInt(vs.size()));
    if (v.label().equals("invalid-utf8")) {
      byte[] b = valid.getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[b.length + 2];
      System.arraycopy(b, 0, out, 0, b.length);
      int at = Math.max(0, valid.indexOf(":\"") + 2);
      System.arraycopy(b, at, out, at + 2, b.length - at);
      out[at] = (byte) 0xC3;
      out[at + 1] = (byte) 0x28;
      d.bodyReplaced();
      d.rawBody = out;
    } else {
      d.bodyReplaced();
      d.rawBody = v.text().getBytes(StandardCharsets.UTF_8);
    }
    d.mark("body", v);
  }

  private String firstKey(Draft d) {
    if (d.fields != null && !d.fields.isEmpty()) {
      return d.fields.keySet().iterator().next();
    }
    return "bids";
  }

  /** Replaces or removes one field of a JSON object with a hostile value. */
  private void mutateField(
      Draft d, Map<String, String> obj, String name, JsonNode schema, String prefix) {
    SplittableRandom rng = d.rng;
    JsonNode s = schema.path("properties").path(name);
    boolean required = schema.path("required").toString().contains("\"" + name + "\"");
    List<V> vs = new ArrayList<>();
    String type = s.path("type").asText();
    if ("date-time".equals(s.path("format").asText())) {
      for (V i : Values.instants(d.now, world.horizonEnd, true)) {
        vs.add(new V(i.label(), Values.q(i.text()), i.refuse()));
      }
    } else if ("integer".equals(type)) {
      long min = s.has("minimum") ? s.get("minimum").asLong() : Long.MIN_VALUE;
      long max = s.has("maximum") ? s.get("maximum").asLong() : Long.MAX_VALUE;
      vs.addAll(Values.integers(min, max));
    } else if (name.equals("creditLimit")) {
      // a credit limit is an amount, not a price: no floor above zero, no ceiling of 1000; only
      // a bidder's is read
      boolean bidder = "\"bidder\"".equals(obj.get("role"));
      for (V p : Values.prices()) {
        boolean amount = List.of("zero", "over-1000").contains(p.label());
        vs.add(new V(p.label(), p.text(), p.refuse() && !amount && bidder));
      }
    } else if (name.equals("minConfidence")) {
      vs.addAll(Values.probabilities());
    } else if (name.equals("avoidPools")) {
      vs.addAll(Values.poolLists());
    } else if (s.has("pattern") || name.endsWith("Price")) {
      vs.addAll(Values.prices());
    } else if ("array".equals(type)) {
      vs.addAll(Values.arrays(region(d)));
    } else if (s.has("enum")) {
      for (V x : Values.strings()) {
        vs.add(V.bad(x.label(), x.text()));
      }
      vs.add(V.bad("wrong-case", Values.q(s.get("enum").get(0).asText().toUpperCase() + "x")));
    } else if ("string".equals(type)) {
      boolean known = name.equals("gpuModel");
      for (V x : Values.strings()) {
        vs.add(new V(x.label(), x.text(), known));
      }
      if (name.equals("url")) {
        vs.add(V.bad("metadata-ip", Values.q("http://169.254.169.254/latest/meta-data/")));
        vs.add(
            V.bad(
                "metadata-host", Values.q("http://metadata.google.internal/computeMetadata/v1/")));
        vs.add(V.ok("loopback-cassandra", Values.q("http://127.0.0.1:9142/")));
        vs.add(V.ok("loopback-remoting", Values.q("http://127.0.0.1:25520/")));
        vs.add(V.ok("private-range", Values.q("http://10.0.0.1/hook")));
        vs.add(V.bad("credentials", Values.q("https://user:pass@example.com/hook")));
        vs.add(V.bad("port-99999", Values.q("https://example.com:99999/hook")));
        vs.add(V.bad("file-scheme", Values.q("file:///etc/passwd")));
        vs.add(V.bad("gopher", Values.q("gopher://127.0.0.1:25520/_x")));
      }
    }
    int pick = rng.nextInt(100);
    V v;
    if (vs.isEmpty() || pick >= 85) {
      List<V> cs = new ArrayList<>(Values.confusions(required));
      if ("boolean".equals(type)) {
        cs.removeIf(c -> c.label().equals("true")); // true is a boolean's value, not a confusion
        cs.add(V.bad("string-yes", Values.q("yes")));
      }
      if (name.equals("avoidPools")) {
        cs.removeIf(c -> c.label().equals("array")); // an empty list avoids nothing
      }
      v = pick >= 95 ? new V("absent", null, required) : cs.get(rng.nextInt(cs.size()));
    } else {
      v = vs.get(rng.nextInt(vs.size()));
    }
    if (v.text() == null) {
      obj.remove(name);
    } else {
      obj.put(name, v.text());
    }
    d.mark(prefix + name, prefix.startsWith("item[") ? "item." + name : prefix + name, v);
  }

  // ---- assembling

  static String encodePath(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  static String json(Map<String, String> obj) {
    StringBuilder b = new StringBuilder("{");
    for (Map.Entry<String, String> e : obj.entrySet()) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append(Values.q(e.getKey())).append(':').append(e.getValue());
    }
    return b.append('}').toString();
  }

  private String jsonBody(Draft d) {
    if (d.fields != null) {
      return json(d.fields);
    }
    if (d.items != null) {
      StringBuilder b = new StringBuilder("{\"bids\":[");
      for (int i = 0; i < d.items.size(); i++) {
        if (i > 0) {
          b.append(',');
        }
        b.append(json(d.items.get(i)));
      }
      return b.append("]}").toString();
    }
    if (d.lines != null) {
      StringBuilder b = new StringBuilder();
      for (Map<String, String> line : d.lines) {
        b.append(json(line)).append('\n');
      }
      return b.toString();
    }
    return "{}";
  }

  private Request assemble(Draft d) {
    StringBuilder path = new StringBuilder();
    String t = d.op.template();
    int i = 0;
    while (i < t.length()) {
      int open = t.indexOf('{', i);
      if (open < 0) {
        path.append(t, i, t.length());
        break;
      }
      int close = t.indexOf('}', open);
      path.append(t, i, open);
      path.append(encodePath(d.path.getOrDefault(t.substring(open + 1, close), "x")));
      i = close + 1;
    }
    StringBuilder q = new StringBuilder();
    for (Map.Entry<String, List<String>> e : d.query.entrySet()) {
      for (String v : e.getValue()) {
        q.append(q.length() == 0 ? '?' : '&')
            .append(encodePath(e.getKey()))
            .append('=')
            .append(encodePath(v));
      }
    }
    List<String[]> headers = new ArrayList<>();
    if (d.key != null) {
      headers.add(
          new String[] {
            "Authorization", d.key.startsWith("\u0000") ? d.key.substring(1) : "Bearer " + d.key
          });
    }
    if (d.idempotencyKey != null) {
      headers.add(new String[] {"Idempotency-Key", d.idempotencyKey});
    }
    byte[] body = null;
    if (d.op.hasBody() || d.rawBody != null) {
      body = d.rawBody != null ? d.rawBody : jsonBody(d).getBytes(StandardCharsets.UTF_8);
      if (d.contentType != null) {
        headers.add(new String[] {"Content-Type", d.contentType});
      }
    }
    headers.addAll(d.headers);
    String label = d.labels.isEmpty() ? "valid" : String.join(" ", d.labels);
    // what a hang is held against: the route and each input it changed, in this market; the
    // market (any route); the route, for requests that name no market
    List<String> tags = new ArrayList<>();
    for (String l : d.labels.isEmpty() ? List.of("valid") : d.labels) {
      tags.add(d.op.label() + "|" + l + (d.market == null ? "" : "|" + d.market));
    }
    tags.add(d.market == null ? "route:" + d.op.label() : "market:" + d.market);
    Oracle oracle = oracle(d);
    Learn learn =
        Learning.forRoute(world, d.op.label(), d.key, d.idempotencyKey, body, d.feed, d.rawBody);
    return new Request(
        d.index,
        d.op.label(),
        d.method,
        path.toString() + q,
        headers,
        body,
        d.role,
        label,
        oracle,
        learn,
        tags);
  }

  private Oracle oracle(Draft d) {
    List<String> refusing = d.refusing();
    boolean refuse =
        !refusing.isEmpty()
            && d.method.equals(d.op.method())
            && !(d.feed != null && d.seqMutated && d.labels.size() > 1);
    String why = String.join(" ", refusing);
    int item = d.rawBody == null ? d.refusedItem() : -1;
    String itemLabel =
        d.finals.entrySet().stream()
            .filter(e -> e.getKey().startsWith("item[" + item + "]") && e.getValue().refuse())
            .map(e -> e.getValue().label())
            .findFirst()
            .orElse("item");
    boolean singleBid = d.op.label().equals("POST /v1/bids");
    String bidder = d.key;
    String key = d.idempotencyKey;
    boolean freshSingleKey =
        singleBid && key != null && !d.keepIdempotencyKey && !world.singleKeyUsed(bidder, key);
    boolean derivedFromBatch = d.labels.stream().anyMatch(l -> l.contains("batch-item-key"));
    return a -> {
      if (refuse && a.ok()) {
        return why + ": accepted with " + a.status();
      }
      if (item >= 0 && (a.status() == 201 || a.status() == 207)) {
        JsonNode r = a.json();
        if (r != null) {
          for (JsonNode x : r.path("results")) {
            int status = x.path("status").asInt();
            if (x.path("index").asInt(-1) == item && (status < 400 || status >= 500)) {
              // a 503 tells the client to retry an item that can never be placed
              return itemLabel
                  + ": answered batch item "
                  + item
                  + " with "
                  + status
                  + " where it must be refused";
            }
          }
        }
      }
      if (freshSingleKey && derivedFromBatch) {
        boolean reused = a.status() == 422 && a.problemType().endsWith("idempotency-key-reused");
        boolean replayed = a.ok() && "true".equals(a.header("Idempotent-Replayed"));
        if (reused || replayed) {
          return "a single bid's fresh Idempotency-Key '"
              + key
              + "' collides with a batch item's (shared namespace): "
              + a.status();
        }
      }
      return null;
    };
  }
}
