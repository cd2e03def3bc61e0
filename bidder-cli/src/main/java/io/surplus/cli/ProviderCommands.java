package io.surplus.cli;

import io.surplus.cli.Table.Column;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code surplus provider statement}: what a capacity owner's windows offered, sold and earned. */
@Command(
    mixinStandardHelpOptions = true,
    name = "provider",
    description = "For capacity owners (a provider's key): the statement of your windows.",
    subcommands = {ProviderCommands.StatementCommand.class})
final class ProviderCommands {

  @Command(
      mixinStandardHelpOptions = true,
      name = "statement",
      description =
          "Per pool and UTC day: node-hours offered, revoked, sold and idle, sell-through,"
              + " revenue, average price against reserve, refunds for lost notice; then totals"
              + " per pool.")
  static final class StatementCommand extends ApiCommand {

    static final List<Column> DAYS =
        List.of(
            Column.text("DAY", "day"),
            Column.text("MARKET", "market"),
            Column.text("POOL", "pool"),
            Column.text("OFFERED", "offeredNodeHours"),
            Column.text("REVOKED", "revokedNodeHours"),
            Column.text("SOLD", "soldNodeHours"),
            Column.text("IDLE", "idleNodeHours"),
            Column.text("SELL-THROUGH", "sellThrough"),
            Column.text("REVENUE", "revenue"),
            Column.text("AVG PRICE", "averagePrice"),
            Column.text("AVG RESERVE", "averageReserve"),
            Column.text("REFUNDS", "refunds"),
            Column.text("PREEMPTED", "preemptions"));

    static final List<Column> TOTALS = DAYS.subList(1, DAYS.size());

    @Option(
        names = "--from",
        paramLabel = "YYYY-MM-DD",
        description = "First UTC day (default: 7 days before --to).")
    String from;

    @Option(
        names = "--to",
        paramLabel = "YYYY-MM-DD",
        description = "The UTC day after the last, exclusive (default: tomorrow); at most 92 days.")
    String to;

    @Option(names = "--pool", paramLabel = "NAME", description = "Only this pool.")
    String pool;

    @Override
    void run() {
      print(
          authenticated()
              .get(
                  ApiClient.path(
                      "/v1/provider/statement",
                      ApiClient.query("from", from, "to", to, "pool", pool))),
          body -> {
            out()
                .println(
                    "statement "
                        + Fmt.text(body, "from")
                        + " to "
                        + Fmt.text(body, "to")
                        + " (exclusive, UTC); node-hours, USD, prices per GPU-hour");
            Table.of(body.path("days"), DAYS).print(out(), "nothing offered in this range");
            Table totals = Table.of(body.path("totals"), TOTALS);
            if (!totals.isEmpty()) {
              out().println();
              out().println("totals");
              totals.print(out(), "");
            }
          });
    }
  }
}
