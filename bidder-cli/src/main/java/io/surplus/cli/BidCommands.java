package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.surplus.cli.Table.Column;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code surplus bid place|cancel|list|show}: the bidder's own bids. */
@Command(
    mixinStandardHelpOptions = true,
    name = "bid",
    description = "Place, cancel, list and show your bids.",
    subcommands = {
      BidCommands.Place.class,
      BidCommands.Cancel.class,
      BidCommands.ListBids.class,
      BidCommands.Show.class
    })
final class BidCommands {

  /** Why an open bid has not filled, in words: the engine's reason codes. */
  static final Map<String, String> REASONS =
      Map.of(
          "BELOW_RESERVE", "every window that fits asks more than the limit price",
          "NO_CAPACITY_IN_WINDOW", "no window has free nodes in the bid's time range",
          "FRAGMENTED", "enough nodes in total, but not in one window for the whole duration",
          "NOTICE_TOO_SHORT", "the windows that fit promise less notice than asked",
          "OUTBID", "capacity existed but higher bids took it",
          "REGION", "no window in the accepted regions",
          "AVOIDED_POOL", "every window that fits lies in a pool the bid avoids",
          "BELOW_MIN_CONFIDENCE", "every window that fits is less sure to last than asked");

  /** The problem type of an Idempotency-Key reused with another body. */
  static final String KEY_REUSED = "idempotency-key-reused";

  /** Placement attempts after the first when the service answers 503. */
  static final int PLACE_RETRIES = 2;

  /** Longest wait before a retry, whatever Retry-After says. */
  static final int MAX_RETRY_WAIT_SECONDS = 10;

  enum TimeInForce {
    GTC,
    IOC
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "place",
      description = {
        "Place a bid: nodes of one GPU model for a duration somewhere between --start and --end,"
            + " at most --price USD per GPU-hour.",
        "The service rounds the window inward to whole slots (surplus market rules GPU_MODEL says"
            + " how long a slot is, how far ahead a bid may reach, the tick). The bid fills in a later"
            + " epoch, at the uniform clearing price, or stays open with a reason.",
        "Each placement sends an Idempotency-Key: running the command again with the same"
            + " --idempotency-key never places a second bid."
      })
  static final class Place extends ApiCommand {

    @Option(
        names = {"-m", "--market"},
        required = true,
        paramLabel = "GPU_MODEL",
        description = "The market's GPU model, e.g. H100-SXM-80GB (see: surplus market list).")
    String market;

    @Option(
        names = {"-n", "--nodes"},
        required = true,
        paramLabel = "N",
        description = "Nodes wanted (whole machines, all from one window).")
    int nodes;

    @Option(
        names = "--min-nodes",
        paramLabel = "N",
        description = "Smallest partial fill you accept (default: --nodes, all or nothing).")
    Integer minNodes;

    @Option(
        names = {"-d", "--duration"},
        required = true,
        converter = TimeArgs.Minutes.class,
        paramLabel = "DURATION",
        description = "How long you need the nodes: 90m, 2h, 1h30m (a plain number is minutes).")
    Duration duration;

    @Option(
        names = "--start",
        defaultValue = "now",
        converter = TimeArgs.InstantConverter.class,
        paramLabel = "TIME",
        description =
            "Earliest start: now, +30m, or 2026-11-23T08:00:00Z (default: now; rounded up to a"
                + " slot).")
    Instant start;

    @Option(
        names = "--end",
        required = true,
        converter = TimeArgs.InstantConverter.class,
        paramLabel = "TIME",
        description = "Latest end: +4h or 2026-11-23T12:00:00Z (rounded down to a slot).")
    Instant end;

    @Option(
        names = {"-p", "--price", "--limit-price"},
        required = true,
        paramLabel = "USD",
        description = "The most you pay per GPU-hour, a decimal such as 2.40 (at most 6 decimals).")
    String limitPrice;

    @Option(
        names = "--region",
        split = ",",
        paramLabel = "REGION",
        description = "Regions you accept (repeat or comma-separate; default: any).")
    List<String> regions;

    @Option(
        names = "--min-notice",
        converter = TimeArgs.Seconds.class,
        paramLabel = "DURATION",
        description =
            "Least preemption notice you accept: 10m, 600 (a plain number is seconds; default 0).")
    Duration minNotice;

    @Option(
        names = "--tif",
        paramLabel = "GTC|IOC",
        description =
            "Time in force: GTC stays in the book until filled, cancelled or --expires (default);"
                + " IOC takes part in one epoch only.")
    TimeInForce timeInForce;

    @Option(
        names = "--expires",
        converter = TimeArgs.InstantConverter.class,
        paramLabel = "TIME",
        description = "When a GTC bid leaves the book unfilled: +1h or an ISO-8601 instant.")
    Instant expiresAt;

    @Option(
        names = "--requeue",
        description =
            "If a provider takes the nodes back early, put the bid back in the book for the time"
                + " lost.")
    boolean requeue;

    @Option(
        names = "--requeue-any-pool",
        description =
            "With --requeue: the requeued bid may go back to the pool that took the nodes (by"
                + " default it avoids that pool).")
    boolean requeueAnyPool;

    @Option(
        names = "--min-confidence",
        paramLabel = "P",
        description =
            "Only windows whose provider gives them at least this probability of lasting to"
                + " their end, 0 to 1 (at most 6 decimals, such as 0.9; default: any).")
    String minConfidence;

    @Option(
        names = "--avoid-pool",
        split = ",",
        paramLabel = "POOL",
        description =
            "Never fill in this pool, named as the market's window timeline shows it (GET"
                + " /v1/markets/GPU_MODEL/windows, the board): pool-3fa2c1. Repeat or"
                + " comma-separate, at most 16.")
    List<String> avoidPools;

    @Option(
        names = "--idempotency-key",
        paramLabel = "KEY",
        description = "Makes a retry safe (default: a new random key, printed with the bid).")
    String idempotencyKey;

    @Option(
        names = "--dry-run",
        description =
            "Place nothing: ask what the next epoch would do with this bid (POST /v1/bids/preview)"
                + " and print it: where and at what price it would fill, or why it would stay"
                + " open, the lowest limit that would fill it now and the earliest start at its"
                + " limit.")
    boolean dryRun;

    @Override
    void run() {
      ApiClient api = authenticated();
      if (dryRun) {
        print(api.post("/v1/bids/preview", body().toString(), null), this::printQuote);
        return;
      }
      String key = idempotencyKey != null ? idempotencyKey : "cli-" + UUID.randomUUID();
      String body = body().toString();
      ApiClient.Reply reply = null;
      for (int attempt = 0; reply == null; attempt++) {
        try {
          reply = api.post("/v1/bids", body, key);
        } catch (CliError e) {
          if (e.status() == 503 && attempt < PLACE_RETRIES) {
            int wait = Math.min(Math.max(e.retryAfterSeconds(), 1), MAX_RETRY_WAIT_SECONDS);
            err()
                .println(
                    "surplus: the service is unavailable (HTTP 503); retrying in "
                        + wait
                        + " s with the same Idempotency-Key ("
                        + (attempt + 1)
                        + " of "
                        + PLACE_RETRIES
                        + ")");
            err().flush();
            sleep(wait);
            continue;
          }
          if (e.outcomeUnknown()) {
            throw e.withHint(
                "Run the same command again with "
                    + retryOptions(key)
                    + " to learn whether the bid was placed; it will not be placed twice");
          }
          if (e.status() == 422 && e.body() != null && e.body().contains(KEY_REUSED)) {
            throw e.withHint(
                "Relative times (now, +2h) resolve anew on each run: to retry, repeat the"
                    + " absolute --start and --end the first run printed, or use a new key");
          }
          throw e;
        }
      }
      boolean replayed = reply.replayed();
      print(
          reply,
          bid -> {
            out()
                .println(
                    (replayed ? "already placed (same Idempotency-Key): " : "placed ")
                        + Fmt.text(bid, "id"));
            Table t = details(bid);
            t.row("idempotency key", key);
            t.print(out());
          });
    }

    void printQuote(com.fasterxml.jackson.databind.JsonNode q) {
      Table t = new Table();
      if (q.path("wouldFill").asBoolean()) {
        out().println("would fill in the next epoch (nothing was placed)");
        t.row("nodes", Fmt.text(q, "nodes"));
        t.row("start", utc(Fmt.instant(q, "start")));
        t.row("end", utc(Fmt.instant(q, "end")));
        t.row("price", Fmt.text(q, "price") + " USD per GPU-hour");
      } else {
        out().println("would stay open (nothing was placed)");
        String reason = Fmt.text(q, "reason");
        String words = reason == null ? null : REASONS.get(reason);
        t.row("reason", words == null ? reason : reason + ": " + words);
        String fills = Fmt.text(q, "fillsAtLimit");
        t.row(
            "fills now at",
            fills == null ? "no limit up to the cap" : "a limit of " + fills + " USD per GPU-hour");
        String earliest = Fmt.instant(q, "earliestStartAtLimit");
        t.row(
            "at your limit",
            earliest == null
                ? "no start before the horizon"
                : "starts " + utc(earliest) + " if --end is the horizon");
      }
      t.row("reserve", Fmt.text(q, "reserve") + " USD when placed");
      t.print(out());
    }

    /** The options that make a rerun send this very body again, under this key. */
    String retryOptions(String key) {
      return "--idempotency-key "
          + key
          + " --start "
          + start
          + " --end "
          + end
          + (expiresAt == null ? "" : " --expires " + expiresAt);
    }

    ObjectNode body() {
      ObjectNode b = ApiClient.MAPPER.createObjectNode();
      b.put("gpuModel", market);
      b.put("nodes", nodes);
      if (minNodes != null) {
        b.put("minNodes", minNodes);
      }
      if (duration.toSecondsPart() != 0 || duration.toMinutes() > Integer.MAX_VALUE) {
        throw CliError.usage("--duration must be whole minutes, got " + duration);
      }
      b.put("durationMinutes", (int) duration.toMinutes());
      b.put("earliestStart", start.toString());
      b.put("latestEnd", end.toString());
      b.put("limitPrice", limitPrice);
      if (regions != null) {
        regions.forEach(b.putArray("regions")::add);
      }
      if (minNotice != null) {
        if (minNotice.getSeconds() > Integer.MAX_VALUE) {
          throw CliError.usage("--min-notice is too long: " + minNotice);
        }
        b.put("minNoticeSeconds", (int) minNotice.getSeconds());
      }
      if (timeInForce != null) {
        b.put("timeInForce", timeInForce.name());
      }
      if (expiresAt != null) {
        b.put("expiresAt", expiresAt.toString());
      }
      if (requeue) {
        b.put("requeue", true);
      }
      if (requeueAnyPool) {
        b.put("requeueAvoidsPool", false);
      }
      if (minConfidence != null) {
        b.put("minConfidence", minConfidence);
      }
      if (avoidPools != null) {
        avoidPools.forEach(b.putArray("avoidPools")::add);
      }
      return b;
    }

    private static void sleep(int seconds) {
      try {
        Thread.sleep(seconds * 1000L);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw CliError.unavailable("interrupted");
      }
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "cancel",
      description = "Cancel one of your open bids; its reserved credit is freed.")
  static final class Cancel extends ApiCommand {

    @Parameters(paramLabel = "BID_ID", description = "The bid, e.g. bid_11_3.")
    String id;

    @Override
    void run() {
      ApiClient.Reply reply = authenticated().delete("/v1/bids/" + ApiClient.segment(id));
      print(
          reply,
          bid -> {
            out().println("cancelled " + Fmt.text(bid, "id"));
            details(bid).print(out());
          });
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "list",
      description = "List your bids, newest first.")
  static final class ListBids extends ApiCommand {

    static final List<Column> COLUMNS =
        List.of(
            Column.text("ID", "id"),
            Column.text("STATUS", "status"),
            Column.text("MARKET", "gpuModel"),
            new Column("NODES", BidCommands::nodes),
            new Column("DURATION", b -> Fmt.minutes(b.path("durationMinutes").asLong())),
            Column.instant("EARLIEST START (UTC)", "earliestStart"),
            Column.instant("LATEST END (UTC)", "latestEnd"),
            Column.text("LIMIT", "limitPrice"),
            new Column("RESERVED", b -> holds(b) ? Fmt.text(b, "reserved") : null),
            Column.text("REASON", "reason"));

    @Option(
        names = "--status",
        paramLabel = "STATUS",
        description = "Only bids in this state: open, filled, cancelled, expired, unfilled, ...")
    String status;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "Bids per page, 1-500 (default 100).")
    Integer limit;

    @Option(names = "--cursor", paramLabel = "CURSOR", description = "The next page, as printed.")
    String cursor;

    @Override
    void run() {
      ApiClient.Reply reply =
          authenticated()
              .get(
                  ApiClient.path(
                      "/v1/bids",
                      ApiClient.query("status", status, "limit", limit, "cursor", cursor)));
      print(
          reply,
          page -> {
            Table.of(page.path("bids"), COLUMNS)
                .print(out(), status == null ? "no bids" : "no " + status + " bids");
            nextPage(page, "surplus bid list" + (status == null ? "" : " --status " + status));
          });
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "show",
      description = "Show one of your bids, with its reason while open.")
  static final class Show extends ApiCommand {

    @Parameters(paramLabel = "BID_ID", description = "The bid, e.g. bid_11_3.")
    String id;

    @Override
    void run() {
      ApiClient.Reply reply = authenticated().get("/v1/bids/" + ApiClient.segment(id));
      print(reply, bid -> details(bid).print(out()));
    }
  }

  /** Whether the bid still holds its reservation: while it is pending or open. */
  static boolean holds(JsonNode b) {
    String status = Fmt.text(b, "status");
    return "open".equals(status) || "pending".equals(status);
  }

  /** {@code 4}, or {@code 2-4} when a partial fill down to 2 is accepted. */
  static String nodes(JsonNode b) {
    int n = b.path("nodes").asInt();
    int min = b.path("minNodes").asInt(n);
    return min == n ? Integer.toString(n) : min + "-" + n;
  }

  /** One bid as name/value lines. */
  static Table details(JsonNode b) {
    Table t = new Table();
    t.row("id", Fmt.text(b, "id"));
    t.row("status", Fmt.text(b, "status"));
    String reason = Fmt.text(b, "reason");
    if (reason != null) {
      String words = REASONS.get(reason);
      t.row("reason", words == null ? reason : reason + ": " + words);
    }
    t.row("market", Fmt.text(b, "gpuModel"));
    int n = b.path("nodes").asInt();
    int min = b.path("minNodes").asInt(n);
    t.row("nodes", n + (min == n ? " (all or nothing)" : " (at least " + min + ")"));
    t.row("duration", Fmt.minutes(b.path("durationMinutes").asLong()));
    t.row("earliest start", utc(Fmt.instant(b, "earliestStart")));
    t.row("latest end", utc(Fmt.instant(b, "latestEnd")));
    t.row("limit price", Fmt.text(b, "limitPrice") + " USD per GPU-hour");
    List<String> regions = new ArrayList<>();
    b.path("regions").forEach(r -> regions.add(r.asText()));
    t.row("regions", regions.isEmpty() ? "any" : String.join(", ", regions));
    long notice = b.path("minNoticeSeconds").asLong();
    t.row("min notice", notice == 0 ? "none" : Fmt.seconds(notice));
    String tif = Fmt.text(b, "timeInForce");
    String expires = Fmt.instant(b, "expiresAt");
    t.row("time in force", expires == null ? tif : tif + " until " + utc(expires));
    t.row(
        "requeue",
        !b.path("requeue").asBoolean()
            ? "no"
            : b.path("requeueAvoidsPool").asBoolean()
                ? "yes, avoiding the pool that cut it"
                : "yes");
    String minConfidence = Fmt.text(b, "minConfidence");
    if (minConfidence != null) {
      t.row("min confidence", minConfidence);
    }
    List<String> avoid = new ArrayList<>();
    b.path("avoidPools").forEach(p -> avoid.add(p.asText()));
    if (!avoid.isEmpty()) {
      t.row("avoids pools", String.join(", ", avoid));
    }
    t.row(
        "reserved",
        Fmt.text(b, "reserved") + (holds(b) ? " USD" : " USD, freed when the bid closed"));
    t.row("created", utc(Fmt.instant(b, "createdAt")));
    return t;
  }

  static String utc(String shown) {
    return shown == null ? null : shown + " UTC";
  }
}
