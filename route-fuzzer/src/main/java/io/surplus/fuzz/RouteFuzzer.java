package io.surplus.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.fuzz.Exchange.Answer;
import io.surplus.fuzz.Exchange.Request;
import io.surplus.fuzz.OpenApi.Operation;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Fuzzes every route of a running service over HTTP only: it reads the service's OpenAPI document,
 * makes its own accounts with an admin key, sends {@code requests} generated requests (seeded) and
 * checks each answer, then checks what the run left: every market still clears, every account's
 * credit adds up, and nothing the service lists came from a request it refused.
 *
 * <p>What it holds the service to, per answer: no 5xx but a 503 with Retry-After; an answer within
 * {@link Config#slow}; every 4xx and 5xx an {@code application/problem+json} document with type,
 * title and status; no stack trace; no 2xx for a request that had to be refused. A route and input
 * class that hangs is not tried again, nor a market that hangs three times (nor a route naming no
 * market that hangs twice), so one stopped market cannot stall the run; those requests are counted
 * as skipped.
 */
public final class RouteFuzzer {

  /** The run's settings. */
  public static final class Config {
    private final URI url;
    private final long requests;
    private final long seed;
    private final String adminKey;
    private int concurrency = 4;
    private boolean exclusive;
    private Path out = Path.of("target", "fuzz");
    private final Duration timeout = Duration.ofSeconds(10);
    private final Duration slow = Duration.ofSeconds(5);
    private Duration settle = Duration.ofSeconds(60);
    private final List<String> regions = DEFAULT_REGIONS;
    private PrintStream log = System.out;

    private Config(URI url, String adminKey, long requests, long seed) {
      this.url = url;
      this.adminKey = adminKey;
      this.requests = requests;
      this.seed = seed;
    }

    public static Config of(URI url, String adminKey, long requests, long seed) {
      return new Config(url, adminKey, requests, seed);
    }

    /** Requests in flight at once; 1 makes the run exactly reproducible. */
    public Config withConcurrency(int c) {
      concurrency = c;
      return this;
    }

    /** No one else writes to the service: every window on every timeline must be the fuzzer's. */
    public Config withExclusive(boolean e) {
      exclusive = e;
      return this;
    }

    /** Where the request log and long reproduction bodies go. */
    public Config withOut(Path o) {
      out = o;
      return this;
    }

    /** How long the checks afterwards wait for markets to clear and bids to settle. */
    public Config withSettle(Duration s) {
      settle = s;
      return this;
    }

    public Config withLog(PrintStream l) {
      log = l;
      return this;
    }

    URI url() {
      return url;
    }

    long requests() {
      return requests;
    }

    long seed() {
      return seed;
    }

    String adminKey() {
      return adminKey;
    }

    int concurrency() {
      return concurrency;
    }

    boolean exclusive() {
      return exclusive;
    }

    Path out() {
      return out;
    }

    Duration timeout() {
      return timeout;
    }

    Duration slow() {
      return slow;
    }

    Duration settle() {
      return settle;
    }

    List<String> regions() {
      return regions;
    }

    PrintStream log() {
      return log;
    }
  }

  /**
   * The service's region names (application.conf): the document does not list them, and bids and
   * windows must name one to be valid.
   */
  public static final List<String> DEFAULT_REGIONS =
      List.of("us-east", "us-west", "eu-central", "eu-west", "eu-north", "ap-south");

  /** Slow answers on one route, input class and market before that class is not sent again. */
  static final int CLASS_HANG_LIMIT = 1;

  /**
   * Slow answers naming one market (on any route) before the market is let be: a stopped market
   * would make every request to it wait out the service's ask timeout.
   */
  static final int MARKET_HANG_LIMIT = 3;

  /** Slow answers on one route of requests that name no market before the route is let be. */
  static final int ROUTE_HANG_LIMIT = 2;

  private static final Pattern STACK_TRACE =
      Pattern.compile("\\bat [a-zA-Z_$][\\w$.]*\\([\\w$]+\\.(java|scala):\\d+\\)");

  private static final java.util.Set<String> STANDARD_METHODS =
      java.util.Set.of(
          "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

  private final Config config;
  private final World world = new World();
  private final FuzzReport report;
  private final HttpClient http;
  private final Map<String, Integer> hangs = new ConcurrentHashMap<>();
  private final Object feedLock = new Object();
  private final String nonce = Long.toString(System.currentTimeMillis(), 36);
  private java.io.Writer requestLog;

  private RouteFuzzer(Config config) {
    this.config = config;
    this.report = new FuzzReport(config.seed());
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** Runs the whole fuzz: set-up, requests, checks afterwards. */
  public static FuzzReport run(Config config) {
    return new RouteFuzzer(config).run();
  }

  private FuzzReport run() {
    long started = System.nanoTime();
    PrintStream log = config.log();
    log.printf("route fuzzer: seed %d against %s%n", config.seed(), config.url());
    List<Operation> ops = setUp();
    log.printf(
        "route fuzzer: %d operations, %d markets, %d s slots, horizon %s; %,d requests on %d"
            + " connections%n",
        ops.size(),
        world.markets.size(),
        world.slotSeconds,
        world.horizonEnd,
        config.requests(),
        config.concurrency());
    Generator gen = new Generator(world, config.seed(), ops);
    try {
      java.nio.file.Files.createDirectories(config.out());
      requestLog = java.nio.file.Files.newBufferedWriter(config.out().resolve("requests.log"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    AtomicLong next = new AtomicLong();
    AtomicLong sent = new AtomicLong();
    long limit = config.requests() * 20;
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < config.concurrency(); w++) {
      Thread t =
          new Thread(
              () -> {
                while (sent.get() < config.requests()) {
                  long i = next.getAndIncrement();
                  if (i > limit) {
                    return;
                  }
                  Operation op = gen.operation(i);
                  boolean sentOne;
                  if (op.hasBody() && op.bodyType().contains("ndjson")) {
                    synchronized (feedLock) {
                      sentOne = fuzzOne(gen, i);
                    }
                  } else {
                    sentOne = fuzzOne(gen, i);
                  }
                  if (sentOne) {
                    long n = sent.incrementAndGet();
                    if (n % 5_000 == 0) {
                      log.printf(
                          "route fuzzer: %,d requests, %d distinct violations%n",
                          n, report.violations().size());
                    }
                  }
                }
              },
              "route-fuzzer-" + w);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    for (Thread t : workers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    try {
      requestLog.close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    log.printf(
        "route fuzzer: %,d requests sent (each in %s); checking what they left ...%n",
        sent.get(), config.out().resolve("requests.log"));
    hangs.forEach(
        (tag, n) -> {
          if (tag.startsWith("market:") && n >= MARKET_HANG_LIMIT
              || tag.startsWith("route:") && n >= ROUTE_HANG_LIMIT) {
            report.note("let be after " + n + " hangs: " + tag);
          }
        });
    new Afterwards().check();
    report.elapsed(Duration.ofNanos(System.nanoTime() - started));
    return report;
  }

  // ---- set-up

  private List<Operation> setUp() {
    Answer doc = call("GET", "/v1/openapi.json", null, null, null, null);
    if (doc.status() != 200 || doc.json() == null) {
      throw new IllegalStateException(
          "no OpenAPI document at " + config.url() + "/v1/openapi.json: " + doc.status());
    }
    List<Operation> ops = OpenApi.operations(doc.json());
    Answer markets = call("GET", "/v1/markets", null, null, null, null);
    for (JsonNode m : markets.json() == null ? List.<JsonNode>of() : iterable(markets.json())) {
      world.markets.add(
          new World.Market(m.path("gpuModel").asText(), m.path("gpusPerNode").asInt(8)));
    }
    if (world.markets.isEmpty()) {
      throw new IllegalStateException("GET /v1/markets lists no market: " + markets.text());
    }
    Answer timeline =
        call(
            "GET",
            "/v1/markets/" + world.markets.get(0).model() + "/windows",
            null,
            null,
            null,
            null);
    JsonNode t = timeline.json();
    if (t != null && t.has("slotSeconds")) {
      world.slotSeconds = t.get("slotSeconds").asInt();
      world.horizonEnd = Instant.parse(t.get("horizonEnd").asText());
    }
    world.regions.addAll(config.regions());
    world.addAccount(
        new World.Account(config.adminKey(), "admin", World.accountOf(config.adminKey())));
    // the fuzzer's own accounts: two bidders (one with little credit), two providers, an admin
    account("bidder", "1000000.00");
    account("bidder", "50.00");
    account("provider", null);
    account("provider", null);
    account("admin", null);
    for (World.Account p : world.accounts("provider")) {
      resyncFeed(p.key());
    }
    world.harvest("GET /", call("GET", "/", null, null, null, null));
    return ops;
  }

  private static Iterable<JsonNode> iterable(JsonNode n) {
    JsonNode list = n.isArray() ? n : n.path("markets");
    List<JsonNode> out = new ArrayList<>();
    list.forEach(out::add);
    return out;
  }

  private void account(String role, String credit) {
    String body =
        "{\"role\":\""
            + role
            + "\",\"name\":\"route fuzzer "
            + role
            + "\""
            + (credit == null ? "" : ",\"creditLimit\":\"" + credit + "\"")
            + "}";
    String key = "fz-setup-" + config.seed() + "-" + nonce + "-" + world.accounts().size();
    Answer a = call("POST", "/v1/accounts", config.adminKey(), key, "application/json", body);
    JsonNode j = a.json();
    if (a.status() != 201 || j == null || !j.has("apiKey")) {
      throw new IllegalStateException(
          "could not create a "
              + role
              + " account with the admin key: "
              + a.status()
              + " "
              + a.text());
    }
    world.addAccount(new World.Account(j.get("apiKey").asText(), role, j.get("account").asLong()));
  }

  private void resyncFeed(String provider) {
    Answer a = call("GET", "/v1/feed/position", provider, null, null, null);
    JsonNode j = a.json();
    if (a.status() == 200 && j != null) {
      world.feedSeq(provider, j.path("lastApplied").asLong());
    }
  }

  // ---- one request

  /** Makes, sends and checks request {@code i}; false when it was not sent (quarantined). */
  private boolean fuzzOne(Generator gen, long i) {
    Request r = gen.next(i);
    for (String tag : r.tags()) {
      int limit =
          tag.startsWith("market:")
              ? MARKET_HANG_LIMIT
              : tag.startsWith("route:") ? ROUTE_HANG_LIMIT : CLASS_HANG_LIMIT;
      if (hangs.getOrDefault(tag, 0) >= limit) {
        report.skip(r.route());
        return false;
      }
    }
    Answer a = send(r);
    if (a == null) {
      return false; // not sendable (a header the client refuses to send)
    }
    report.count(r.route(), a.status(), a.nanos());
    logRequest(r, a);
    check(r, a);
    world.harvest(r.route(), a);
    r.learn().from(a);
    if (r.route().equals("POST /v1/feed")) {
      for (World.Account p : world.accounts("provider")) {
        if (world.takeFeedResync(p.key())) {
          resyncFeed(p.key());
        }
      }
    }
    return true;
  }

  /** One line per request: index, status, milliseconds, role, route, input class. */
  private void logRequest(Request r, Answer a) {
    String line =
        r.index()
            + " "
            + a.status()
            + " "
            + a.nanos() / 1_000_000
            + "ms "
            + r.role()
            + " "
            + r.method()
            + " "
            + r.route()
            + " ["
            + r.inputClass()
            + "]\n";
    synchronized (requestLog) {
      try {
        requestLog.write(line);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  private void check(Request r, Answer a) {
    int s = a.status();
    if (s == 0) {
      hang(r);
      violation("no-answer", r, a, a.error());
      return;
    }
    if (a.nanos() > config.slow().toNanos()) {
      hang(r);
      violation(
          "slow",
          r,
          a,
          "answered after "
              + a.nanos() / 1_000_000
              + " ms (bound "
              + config.slow().toMillis()
              + " ms)");
    }
    // 501 is the right answer to a method HTTP does not define; it must still be a problem document
    boolean unknownMethod = s == 501 && !STANDARD_METHODS.contains(r.method());
    if (s >= 500 && s != 503 && !unknownMethod) {
      violation("server-error", r, a, snippet(a));
    } else if (s == 503 && a.header("Retry-After") == null) {
      violation("503-without-retry-after", r, a, snippet(a));
    }
    if (s == 207 || (s == 201 && r.route().contains("batch"))) {
      JsonNode j = a.json();
      for (JsonNode item : j == null ? List.<JsonNode>of() : iterable(j.path("results"))) {
        int is = item.path("status").asInt();
        if (is >= 500 && is != 503) {
          violation("server-error", r, a, "batch item " + item.path("index") + " answered " + is);
        }
      }
    }
    if (s >= 400 && !r.method().equals("HEAD")) {
      String why = problemDocument(a);
      if (why != null) {
        violation("not-a-problem-document", r, a, why + ": " + snippet(a));
      }
    }
    if (STACK_TRACE.matcher(a.text()).find()) {
      violation("stack-trace", r, a, snippet(a));
    }
    String wrong = r.oracle().check(a);
    if (wrong != null) {
      violation(
          wrong.contains("namespace") ? "shared-idempotency-namespace" : "accepted-invalid",
          r,
          a,
          wrong);
    }
  }

  /** Why the answer is not a problem document, or null when it is one. */
  static String problemDocument(Answer a) {
    if (!a.isProblemJson()) {
      return "Content-Type " + a.header("Content-Type");
    }
    JsonNode j = a.json();
    if (j == null || !j.isObject()) {
      return "not a JSON object";
    }
    if (!j.path("type").isTextual() || !j.path("title").isTextual()) {
      return "no type or title";
    }
    if (j.path("status").asInt(-1) != a.status()) {
      return "status " + j.path("status") + " is not the answer's " + a.status();
    }
    return null;
  }

  /** The input a label names: {@code field.nodes=zero} is {@code field.nodes}. */
  private static String target(String label) {
    int eq = label.indexOf('=');
    return eq < 0 ? label : label.substring(0, eq);
  }

  private void hang(Request r) {
    for (String tag : r.tags()) {
      hangs.merge(tag, 1, Integer::sum);
    }
  }

  private static String snippet(Answer a) {
    String t = a.text().replace('\n', ' ');
    return t.length() > 300 ? t.substring(0, 300) + "..." : t;
  }

  private void violation(String kind, Request r, Answer a, String detail) {
    String repro = Curl.of(config.url(), r, config.out());
    String[] labels = r.inputClass().split(" ");
    boolean single = labels.length == 1;
    String cause;
    if (kind.equals("shared-idempotency-namespace")) {
      cause = "header.Idempotency-Key";
    } else if (kind.equals("accepted-invalid")) {
      cause = target(detail.split("[ :]", 2)[0]); // the oracle names the input that broke the rule
    } else {
      cause = single ? target(labels[0]) : "(several)";
    }
    String route = r.route();
    String ct = a.header("Content-Type");
    if (kind.equals("not-a-problem-document")
        && ct != null
        && ct.startsWith("text/plain")
        && java.util.Set.of(400, 408, 413, 414, 431, 501, 505).contains(a.status())) {
      route = "(server, before any route)"; // the HTTP server's own answer, the same for all routes
      cause = "any";
    }
    if (report.violation(kind, route, cause, a.status(), r.inputClass(), single, detail, repro)) {
      config
          .log()
          .printf(
              "VIOLATION %s: %s [%s] -> %s%n  %s%n",
              kind,
              r.route(),
              r.inputClass(),
              a.status() == 0 ? "no answer" : a.status(),
              repro.length() > 600 ? repro.substring(0, 600) + "..." : repro);
    }
  }

  private Answer send(Request r) {
    HttpRequest.Builder b;
    try {
      b =
          HttpRequest.newBuilder(URI.create(config.url() + r.pathAndQuery()))
              .timeout(config.timeout());
      for (String[] h : r.headers()) {
        b.header(h[0], h[1]);
      }
      b.method(
          r.method(),
          r.body() == null
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(r.body()));
    } catch (IllegalArgumentException e) {
      return null;
    }
    return exchange(b.build());
  }

  private Answer exchange(HttpRequest req) {
    long t0 = System.nanoTime();
    try {
      HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
      return new Answer(
          resp.statusCode(), resp.headers().map(), resp.body(), System.nanoTime() - t0, null);
    } catch (HttpTimeoutException e) {
      return new Answer(
          0,
          Map.of(),
          new byte[0],
          System.nanoTime() - t0,
          "no answer within " + config.timeout().toSeconds() + " s");
    } catch (IOException e) {
      return new Answer(0, Map.of(), new byte[0], System.nanoTime() - t0, "connection: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** A request of the fuzzer's own bookkeeping (set-up, checks), not counted in the run. */
  private Answer call(
      String method, String path, String key, String idem, String contentType, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(config.url() + path)).timeout(config.timeout());
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    if (idem != null) {
      b.header("Idempotency-Key", idem);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    return exchange(b.build());
  }

  // ---- afterwards

  /** The checks of what the run left. */
  private final class Afterwards {

    void check() {
      marketsStillClear();
      nothingPending();
      bidsAndLeasesWereAccepted();
      creditAddsUp();
      if (config.exclusive()) {
        windowsWereAccepted();
      }
    }

    private void after(String kind, String what, String detail) {
      report.violation(kind, "(after the run)", what, 0, null, true, detail, null);
      config.log().printf("VIOLATION %s: %s: %s%n", kind, what, detail);
    }

    private Map<String, Long> epochs() {
      // per market, so that one market that does not answer says nothing of the others
      Map<String, Long> out = new HashMap<>();
      for (World.Market m : world.markets) {
        Answer a = call("GET", "/v1/markets/" + m.model() + "/book", null, null, null, null);
        if (a.status() == 200 && a.json() != null) {
          out.put(m.model(), a.json().path("epoch").asLong());
        }
      }
      return out;
    }

    /**
     * In every market, a fresh window and a bid that fits it are accepted, and the market's epoch
     * moves on at least twice after that (a market clears only while a bid is open).
     */
    void marketsStillClear() {
      String provider = world.accounts("provider").get(0).key();
      String bidder = world.accounts("bidder").get(0).key();
      long slot = world.slotSeconds;
      long now = Instant.now().getEpochSecond();
      long start = (now / slot + 2) * slot;
      long end = start + Math.max(4 * slot, 3600);
      Map<String, String> probes = new HashMap<>();
      Map<String, Long> before = new HashMap<>();
      for (World.Market m : world.markets) {
        String model = m.model();
        String window =
            "{\"gpuModel\":\""
                + model
                + "\",\"pool\":\"fz-probe\",\"region\":\""
                + world.regions.get(0)
                + "\",\"nodes\":64,\"start\":\""
                + Instant.ofEpochSecond(start)
                + "\",\"end\":\""
                + Instant.ofEpochSecond(end)
                + "\",\"reservePrice\":\"1.00\",\"noticeSeconds\":0}";
        Answer w =
            call(
                "POST",
                "/v1/windows",
                provider,
                "fz-probe-w-" + nonce + "-" + model,
                "application/json",
                window);
        if (w.ok()) {
          World.WindowFacts f = Learning.windowFacts(world, w.json());
          if (f != null) {
            world.okWindow(f);
          }
        } else {
          after(
              "market-stopped",
              model,
              "a valid window was refused: " + w.status() + " " + snippet(w));
          continue;
        }
        before.put(model, epochs().getOrDefault(model, 0L));
        long minutes = Math.max(slot / 60, 15);
        String bid =
            "{\"gpuModel\":\""
                + model
                + "\",\"nodes\":1,\"durationMinutes\":"
                + minutes
                + ",\"earliestStart\":\""
                + Instant.ofEpochSecond(start)
                + "\",\"latestEnd\":\""
                + Instant.ofEpochSecond(end)
                + "\",\"limitPrice\":\"1000.00\"}";
        Answer b =
            call(
                "POST",
                "/v1/bids",
                bidder,
                "fz-probe-b-" + nonce + "-" + model,
                "application/json",
                bid);
        if (!b.ok() || b.json() == null) {
          after(
              "market-stopped", model, "a valid bid was refused: " + b.status() + " " + snippet(b));
          continue;
        }
        String id = b.json().path("id").asText();
        world.okBid(id);
        probes.put(model, id);
      }
      // a market is alive when its probe bid (a high limit, a window made for it) fills: only an
      // epoch after the bid can fill it. Epochs alone prove nothing: a market skips an epoch with
      // nothing new to try.
      long deadline = System.nanoTime() + config.settle().toNanos();
      Map<String, String> status = new java.util.HashMap<>();
      while (true) {
        for (Map.Entry<String, String> p : probes.entrySet()) {
          Answer s = call("GET", "/v1/bids/" + p.getValue(), bidder, null, null, null);
          status.put(p.getKey(), s.json() == null ? "?" : s.json().path("status").asText());
        }
        if (System.nanoTime() >= deadline || status.values().stream().allMatch("filled"::equals)) {
          break;
        }
        pause();
      }
      Map<String, Long> now2 = epochs();
      for (Map.Entry<String, String> p : probes.entrySet()) {
        String model = p.getKey();
        long moved = now2.getOrDefault(model, 0L) - before.get(model);
        if (!"filled".equals(status.get(model))) {
          after(
              "market-stopped",
              model,
              "its probe bid "
                  + p.getValue()
                  + " is "
                  + status.get(model)
                  + " "
                  + config.settle().toSeconds()
                  + " s after it was placed (the epoch moved "
                  + moved
                  + ")");
        } else {
          report.note("after: " + model + " filled the probe bid; its epoch moved " + moved);
        }
      }
    }

    /** No bid of the fuzzer's stays pending: each is settled with its market within the grace. */
    void nothingPending() {
      long deadline = System.nanoTime() + config.settle().toNanos();
      for (World.Account b : world.accounts("bidder")) {
        List<JsonNode> pending = list("/v1/bids?status=pending", b.key(), "bids");
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
          pause();
          pending = list("/v1/bids?status=pending", b.key(), "bids");
        }
        if (!pending.isEmpty()) {
          after(
              "bids-stuck-pending",
              "account " + b.id(),
              pending.size()
                  + " bids still pending after "
                  + config.settle().toSeconds()
                  + " s, e.g. "
                  + pending.get(0).path("id").asText()
                  + " in "
                  + pending.get(0).path("gpuModel").asText());
        }
      }
    }

    /** Every bid and lease listed came from a request answered 2xx (or of unknown outcome). */
    void bidsAndLeasesWereAccepted() {
      listedBids = 0;
      unknownBids = 0;
      for (World.Account b : world.accounts("bidder")) {
        List<JsonNode> bids = list("/v1/bids?limit=500", b.key(), "bids");
        int unknown = 0;
        java.util.Set<String> known = new java.util.HashSet<>();
        for (JsonNode bid : bids) {
          String id = bid.path("id").asText();
          if (world.isOkBid(id)) {
            known.add(id);
            continue;
          }
          if (world.matchesUnknownBid(Learning.bidFacts(b.id(), bid))) {
            unknown++;
            known.add(id);
            continue;
          }
          after(
              "refused-left-state",
              "bid " + id,
              "listed for account "
                  + b.id()
                  + " but no request for it was answered 2xx: "
                  + bid.toString().substring(0, Math.min(300, bid.toString().length())));
        }
        for (JsonNode lease : list("/v1/leases?limit=500", b.key(), "leases")) {
          String bidId = lease.path("bidId").asText();
          if (!known.contains(bidId) && !world.isOkBid(bidId)) {
            after(
                "refused-left-state",
                "lease " + lease.path("id").asText(),
                "of bid " + bidId + " which no request placed (account " + b.id() + ")");
          }
        }
        listedBids += bids.size();
        unknownBids += unknown;
      }
    }

    private int listedBids;
    private int unknownBids;

    /** GET /v1/account of every account the fuzzer holds a key of: the parts add up. */
    void creditAddsUp() {
      report.note(
          "after: "
              + listedBids
              + " bids listed over "
              + world.accounts("bidder").size()
              + " bidders, each placed by a request answered 2xx ("
              + unknownBids
              + " by one of unknown outcome: 503, 5xx, no answer)");
      int checked = 0;
      for (World.Account acct : world.accounts()) {
        Answer a = call("GET", "/v1/account", acct.key(), null, null, null);
        JsonNode j = a.json();
        if (a.status() != 200 || j == null) {
          after(
              "credit",
              "account " + acct.id(),
              "GET /v1/account answered " + a.status() + " " + snippet(a));
          continue;
        }
        checked++;
        try {
          BigDecimal limit = new BigDecimal(j.path("creditLimit").asText());
          BigDecimal reserved = new BigDecimal(j.path("reserved").asText());
          BigDecimal leased = new BigDecimal(j.path("leased").asText());
          BigDecimal charged = new BigDecimal(j.path("charged").asText());
          BigDecimal available = new BigDecimal(j.path("available").asText());
          String wrong = null;
          if (reserved.signum() < 0
              || leased.signum() < 0
              || charged.signum() < 0
              || available.signum() < 0
              || limit.signum() < 0) {
            wrong = "a part is negative";
          } else if (limit.compareTo(reserved.add(leased).add(charged).add(available)) != 0) {
            wrong = "creditLimit is not reserved + leased + charged + available";
          }
          if (wrong != null) {
            after("credit", "account " + acct.id(), wrong + ": " + j);
          }
        } catch (RuntimeException e) {
          after("credit", "account " + acct.id(), "not decimal amounts: " + j);
        }
      }
      report.note("after: credit adds up checked on " + checked + " accounts");
    }

    /** Every window on every timeline is one the fuzzer was told it had opened. */
    void windowsWereAccepted() {
      List<World.WindowFacts> ok = new ArrayList<>(world.okWindows());
      List<World.WindowFacts> unknown = new ArrayList<>(world.unknownWindows());
      int listed = 0;
      for (World.Market m : world.markets) {
        Answer t = call("GET", "/v1/markets/" + m.model() + "/windows", null, null, null, null);
        if (t.status() != 200 || t.json() == null) {
          after(
              "market-stopped",
              m.model(),
              "its timeline answered " + t.status() + " " + snippet(t));
          continue;
        }
        for (JsonNode w : t.json().path("windows")) {
          listed++;
          World.WindowFacts f =
              new World.WindowFacts(
                  m.model(),
                  w.path("region").asText(),
                  w.path("nodes").asInt(),
                  w.path("gpusPerNode").asInt(),
                  World.decimal(w.path("reservePrice").asText()),
                  w.path("noticeSeconds").asInt());
          if (!ok.remove(f) && !unknown.remove(f)) {
            after(
                "refused-left-state",
                "window in " + m.model(),
                "on the timeline but no request that opened it was answered 2xx: " + w);
          }
        }
      }
      report.note(
          "after: " + listed + " windows on the timelines, each matched to an accepted request");
    }

    private List<JsonNode> list(String path, String key, String field) {
      List<JsonNode> out = new ArrayList<>();
      String cursor = null;
      for (int page = 0; page < 200; page++) {
        String p =
            cursor == null
                ? path
                : path
                    + (path.contains("?") ? "&" : "?")
                    + "cursor="
                    + java.net.URLEncoder.encode(cursor, StandardCharsets.UTF_8);
        Answer a = call("GET", p, key, null, null, null);
        JsonNode j = a.json();
        if (a.status() != 200 || j == null) {
          after("listing-failed", "GET " + path, a.status() + " " + snippet(a));
          return out;
        }
        j.path(field).forEach(out::add);
        cursor = j.hasNonNull("nextCursor") ? j.get("nextCursor").asText() : null;
        if (cursor == null) {
          return out;
        }
      }
      return out;
    }

    /** Polls again in a moment: the checks wait on deadlines, never on a fixed sleep alone. */
    private void pause() {
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }
}
