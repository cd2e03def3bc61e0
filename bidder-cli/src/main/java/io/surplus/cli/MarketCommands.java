package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code surplus market list|book|candles|trades}: the public, anonymous market data. None of it
 * needs a key.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "market",
    description = "Public market data: markets, depth, price candles, the trade tape.",
    subcommands = {
      MarketCommands.ListMarkets.class,
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
    @Override
    void run() {
      print(
          api().get("/v1/markets"),
          body -> {
            Table t =
                new Table(
                    "MARKET",
                    "GPUS/NODE",
                    "EPOCH",
                    "EPOCH PRICE",
                    "BEST BID",
                    "BEST RESERVE",
                    "BID NODES",
                    "FREE NODES");
            for (JsonNode m : body.path("markets")) {
              t.row(
                  Fmt.text(m, "gpuModel"),
                  Fmt.text(m, "gpusPerNode"),
                  Fmt.text(m, "epoch"),
                  Fmt.text(m, "lastClearingPrice"),
                  Fmt.text(m, "bestBid"),
                  Fmt.text(m, "bestReserve"),
                  Fmt.text(m, "openBidNodes"),
                  Fmt.text(m, "freeNodes"));
            }
            t.print(out());
            out()
                .println(
                    "prices in USD per GPU-hour; EPOCH PRICE is the latest epoch's clearing price"
                        + " (- if it filled nothing)");
          });
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "book",
      description =
          "A market's depth: open bids by limit price, free windows by reserve price (anonymous).")
  static final class Book extends ApiCommand {

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
            Table bids = new Table("LIMIT", "BIDS", "NODES", "CUMULATIVE NODES");
            for (JsonNode l : book.path("bids")) {
              bids.row(
                  Fmt.text(l, "limitPrice"),
                  Fmt.text(l, "bids"),
                  Fmt.text(l, "nodes"),
                  Fmt.text(l, "cumulativeNodes"));
            }
            printOrNone(bids, "no open bids");
            out().println();
            out().println("Windows (supply)");
            Table windows =
                new Table(
                    "RESERVE", "WINDOWS", "FREE NODES", "FREE NODE-HOURS", "CUMULATIVE FREE NODES");
            for (JsonNode l : book.path("windows")) {
              windows.row(
                  Fmt.text(l, "reservePrice"),
                  Fmt.text(l, "windows"),
                  Fmt.text(l, "freeNodes"),
                  Fmt.text(l, "freeNodeHours"),
                  Fmt.text(l, "cumulativeFreeNodes"));
            }
            printOrNone(windows, "no free windows");
          });
    }

    private void printOrNone(Table t, String none) {
      if (t.isEmpty()) {
        out().println(none);
      } else {
        t.print(out());
      }
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "candles",
      description =
          "Clearing-price candles with volume, oldest first; only buckets in which something"
              + " filled.")
  static final class Candles extends ApiCommand {

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
      print(
          api()
              .get(
                  ApiClient.path(
                      path(model, "candles"),
                      ApiClient.query("interval", interval, "from", from, "to", to))),
          body -> {
            Table t =
                new Table(
                    "START (UTC)",
                    "OPEN",
                    "HIGH",
                    "LOW",
                    "CLOSE",
                    "GPU-HOURS",
                    "NOTIONAL",
                    "TRADES");
            for (JsonNode c : body.path("candles")) {
              t.row(
                  Fmt.instant(c, "start"),
                  Fmt.text(c, "open"),
                  Fmt.text(c, "high"),
                  Fmt.text(c, "low"),
                  Fmt.text(c, "close"),
                  Fmt.text(c, "volumeGpuHours"),
                  Fmt.text(c, "notional"),
                  Fmt.text(c, "trades"));
            }
            if (t.isEmpty()) {
              out().println("no trades in this range");
            } else {
              out()
                  .println(
                      Fmt.text(body, "gpuModel")
                          + ", "
                          + Fmt.text(body, "interval")
                          + " candles; prices in USD per GPU-hour, notional in USD");
              t.print(out());
            }
          });
    }
  }

  @Command(
      mixinStandardHelpOptions = true,
      name = "trades",
      description = "The anonymous tape of fills, newest first, one UTC day at a time.")
  static final class Trades extends ApiCommand {

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
      print(
          api()
              .get(
                  ApiClient.path(
                      path(model, "trades"),
                      ApiClient.query("day", day, "limit", limit, "cursor", cursor))),
          body -> {
            Table t =
                new Table(
                    "CLEARED (UTC)",
                    "EPOCH",
                    "PRICE",
                    "NODES",
                    "GPUS/NODE",
                    "GPU-HOURS",
                    "START (UTC)",
                    "END (UTC)");
            for (JsonNode tr : body.path("trades")) {
              t.row(
                  Fmt.instant(tr, "clearedAt"),
                  Fmt.text(tr, "epoch"),
                  Fmt.text(tr, "price"),
                  Fmt.text(tr, "nodes"),
                  Fmt.text(tr, "gpusPerNode"),
                  Fmt.text(tr, "gpuHours"),
                  Fmt.instant(tr, "start"),
                  Fmt.instant(tr, "end"));
            }
            if (t.isEmpty()) {
              out().println("no trades");
            } else {
              t.print(out());
            }
            nextPage(body, "surplus market trades " + model + (day == null ? "" : " --day " + day));
          });
    }
  }
}
