package io.surplus.cli;

import io.surplus.cli.Table.Column;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code surplus market list|rules|book|candles|trades}: the public, anonymous market data. None of
 * it needs a key.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "market",
    description = "Public market data: markets, depth, price candles, the trade tape.",
    subcommands = {
      MarketCommands.ListMarkets.class,
      MarketCommands.Rules.class,
      MarketCommands.Book.class,
      MarketCommands.Candles.class,
      MarketCommands.Trades.class
    })
final class MarketCommands {

  static String path(String model, String what) {
    return "/v1/markets/" + ApiClient.segment(model) + "/" + what;
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "list",
      description =
          "Every market: its latest epoch and clearing price, best bid and reserve, open demand"
              + " and free supply.")
  static final class ListMarkets extends ApiCommand {

    static final List<Column> COLUMNS =
        List.of(
            Column.text("MARKET", "gpuModel"),
            Column.text("GPUS/NODE", "gpusPerNode"),
            Column.text("EPOCH", "epoch"),
            Column.text("EPOCH PRICE", "lastClearingPrice"),
            Column.text("BEST BID", "bestBid"),
            Column.text("BEST RESERVE", "bestReserve"),
            Column.text("BID NODES", "openBidNodes"),
            Column.text("FREE NODES", "freeNodes"));

    @Override
    void run() {
      print(
          api().get("/v1/markets"),
          body -> {
            Table.of(body.path("markets"), COLUMNS).print(out(), "no markets");
            out()
                .println(
                    "prices in USD per GPU-hour; EPOCH PRICE is the latest epoch's clearing price"
                        + " (- if it filled nothing)");
          });
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "rules",
      description =
          "What a bid in a market must follow: the slot grid and horizon its window rounds to,"
              + " the price tick and cap, sizes, durations, notice, how often it clears and at"
              + " what price.")
  static final class Rules extends ApiCommand {

    @Parameters(paramLabel = "GPU_MODEL", description = "The market, e.g. H100-SXM-80GB.")
    String model;

    @Override
    void run() {
      print(
          api().get("/v1/markets/" + ApiClient.segment(model)),
          market -> {
            com.fasterxml.jackson.databind.JsonNode r = market.path("rules");
            Table t = new Table();
            t.row("market", Fmt.text(market, "gpuModel"));
            t.row("slot", Fmt.seconds(r.path("slotSeconds").asLong()) + " (UTC grid)");
            t.row(
                "horizon",
                Fmt.seconds(java.time.Duration.parse(Fmt.text(r, "horizon")).toSeconds()));
            t.row("price tick", Fmt.text(r, "priceTick") + " USD per GPU-hour");
            t.row("highest limit", Fmt.text(r, "maxLimitPrice") + " USD per GPU-hour");
            t.row("GPUs per node", Fmt.text(r, "gpusPerNode"));
            t.row("nodes per bid", "1 to " + Fmt.text(r, "maxNodesPerBid"));
            t.row(
                "duration",
                Fmt.minutes(r.path("minDurationMinutes").asLong())
                    + " to "
                    + Fmt.minutes(r.path("maxDurationMinutes").asLong())
                    + ", rounded up to whole slots");
            t.row("min notice", "up to " + Fmt.seconds(r.path("maxNoticeSeconds").asLong()));
            t.row("time in force", join(r.path("timeInForce")));
            t.row("regions", join(r.path("regions")));
            t.row(
                "clears",
                "every "
                    + java.time.Duration.parse(Fmt.text(r, "epochInterval")).toMillis()
                    + " ms, "
                    + Fmt.text(r, "pricingRule"));
            t.row("bids per batch", "up to " + Fmt.text(r, "maxBatchBids"));
            t.print(out());
          });
    }

    static String join(com.fasterxml.jackson.databind.JsonNode values) {
      List<String> all = new java.util.ArrayList<>();
      values.forEach(v -> all.add(v.asText()));
      return String.join(", ", all);
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "book",
      description =
          "A market's depth: open bids by limit price, free windows by reserve price (anonymous).")
  static final class Book extends ApiCommand {

    static final List<Column> BIDS =
        List.of(
            Column.text("LIMIT", "limitPrice"),
            Column.text("BIDS", "bids"),
            Column.text("NODES", "nodes"),
            Column.text("CUMULATIVE NODES", "cumulativeNodes"));

    static final List<Column> WINDOWS =
        List.of(
            Column.text("RESERVE", "reservePrice"),
            Column.text("WINDOWS", "windows"),
            Column.text("FREE NODES", "freeNodes"),
            Column.text("FREE NODE-HOURS", "freeNodeHours"),
            Column.text("CUMULATIVE FREE NODES", "cumulativeFreeNodes"));

    @Parameters(paramLabel = "GPU_MODEL", description = "The market, e.g. H100-SXM-80GB.")
    String model;

    @Override
    void run() {
      print(
          api().get(path(model, "book")),
          book -> {
            String last = Fmt.text(book, "lastClearingPrice");
            out()
                .println(
                    Fmt.text(book, "gpuModel")
                        + " at "
                        + BidCommands.utc(Fmt.instant(book, "asOf"))
                        + ", epoch "
                        + Fmt.text(book, "epoch")
                        + (last == null
                            ? ", which filled nothing"
                            : ", which cleared at " + last + " USD per GPU-hour"));
            out().println();
            out().println("Bids (demand)");
            Table.of(book.path("bids"), BIDS).print(out(), "no open bids");
            out().println();
            out().println("Windows (supply)");
            Table.of(book.path("windows"), WINDOWS).print(out(), "no free windows");
          });
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "candles",
      description =
          "Clearing-price candles with volume, oldest first; only buckets in which something"
              + " filled.")
  static final class Candles extends ApiCommand {

    static final List<Column> COLUMNS =
        List.of(
            Column.instant("START (UTC)", "start"),
            Column.text("OPEN", "open"),
            Column.text("HIGH", "high"),
            Column.text("LOW", "low"),
            Column.text("CLOSE", "close"),
            Column.text("GPU-HOURS", "volumeGpuHours"),
            Column.text("NOTIONAL", "notional"),
            Column.text("TRADES", "trades"));

    @Parameters(paramLabel = "GPU_MODEL", description = "The market, e.g. H100-SXM-80GB.")
    String model;

    @Option(
        names = "--interval",
        paramLabel = "1m|15m|1h",
        description = "Bucket size: 1m, 15m or 1h (default 1m).")
    String interval;

    @Option(
        names = "--from",
        converter = TimeArgs.InstantConverter.class,
        paramLabel = "TIME",
        description = "First bucket: an ISO-8601 instant (default: 120 buckets before --to).")
    Instant from;

    @Option(
        names = "--to",
        converter = TimeArgs.InstantConverter.class,
        paramLabel = "TIME",
        description = "End of the range (default: now).")
    Instant to;

    @Override
    void run() {
      String query =
          ApiClient.path(
              path(model, "candles"),
              ApiClient.query("interval", interval, "from", from, "to", to));
      print(
          api().get(query),
          body -> {
            Table t = Table.of(body.path("candles"), COLUMNS);
            if (!t.isEmpty()) {
              out()
                  .println(
                      Fmt.text(body, "gpuModel")
                          + ", "
                          + Fmt.text(body, "interval")
                          + " candles; prices in USD per GPU-hour, notional in USD");
            }
            t.print(out(), "no trades in this range");
          });
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "trades",
      description = "The anonymous tape of fills, newest first, one UTC day at a time.")
  static final class Trades extends ApiCommand {

    static final List<Column> COLUMNS =
        List.of(
            Column.instant("CLEARED (UTC)", "clearedAt"),
            Column.text("EPOCH", "epoch"),
            Column.text("PRICE", "price"),
            Column.text("NODES", "nodes"),
            Column.text("GPUS/NODE", "gpusPerNode"),
            Column.text("GPU-HOURS", "gpuHours"),
            Column.instant("START (UTC)", "start"),
            Column.instant("END (UTC)", "end"));

    @Parameters(paramLabel = "GPU_MODEL", description = "The market, e.g. H100-SXM-80GB.")
    String model;

    @Option(
        names = "--day",
        paramLabel = "YYYY-MM-DD",
        description = "The UTC day (default: the latest day with trades).")
    String day;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "Trades per page, 1-500 (default 100).")
    Integer limit;

    @Option(names = "--cursor", paramLabel = "CURSOR", description = "The next page, as printed.")
    String cursor;

    @Override
    void run() {
      String query =
          ApiClient.path(
              path(model, "trades"), ApiClient.query("day", day, "limit", limit, "cursor", cursor));
      print(
          api().get(query),
          body -> {
            Table.of(body.path("trades"), COLUMNS).print(out(), "no trades");
            nextPage(body, "surplus market trades " + model + (day == null ? "" : " --day " + day));
          });
    }
  }
}
