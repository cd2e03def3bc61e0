package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.surplus.cli.Table.Column;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code surplus leases [LEASE_ID]}: what the bidder's bids won. */
@Command(
    mixinStandardHelpOptions = true,
    name = "leases",
    description = {
      "List your leases, newest first, or show one.",
      "A lease is nodes of one window for a time at a price; its status is scheduled, running,"
          + " notified (a provider takes it back at PREEMPT AT), preempted or completed."
    })
final class LeasesCommand extends ApiCommand {

  static final List<Column> COLUMNS =
      List.of(
          Column.text("ID", "id"),
          Column.text("BID", "bidId"),
          Column.text("MARKET", "gpuModel"),
          Column.text("NODES", "nodes"),
          Column.text("GPUS/NODE", "gpusPerNode"),
          Column.instant("START (UTC)", "start"),
          Column.instant("END (UTC)", "end"),
          Column.text("PRICE", "price"),
          Column.text("COST", "cost"),
          Column.text("STATUS", "status"));

  @Parameters(
      arity = "0..1",
      paramLabel = "LEASE_ID",
      description = "Show only this lease, e.g. lease_H100-SXM-80GB_7.")
  String id;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "Leases per page, 1-500 (default 100).")
  Integer limit;

  @Option(names = "--cursor", paramLabel = "CURSOR", description = "The next page, as printed.")
  String cursor;

  @Override
  void run() {
    ApiClient api = authenticated();
    if (id != null) {
      print(api.get("/v1/leases/" + ApiClient.segment(id)), l -> details(l).print(out()));
      return;
    }
    ApiClient.Reply reply =
        api.get(ApiClient.path("/v1/leases", ApiClient.query("limit", limit, "cursor", cursor)));
    print(
        reply,
        page -> {
          List<Column> columns = new ArrayList<>(COLUMNS);
          for (JsonNode l : page.path("leases")) {
            if (l.hasNonNull("preemptAt")) {
              columns.add(Column.instant("PREEMPT AT (UTC)", "preemptAt"));
              break;
            }
          }
          Table.of(page.path("leases"), columns).print(out(), "no leases");
          nextPage(page, "surplus leases");
        });
  }

  static Table details(JsonNode l) {
    Table t = new Table();
    t.row("id", Fmt.text(l, "id"));
    t.row("bid", Fmt.text(l, "bidId"));
    t.row("market", Fmt.text(l, "gpuModel"));
    t.row("status", Fmt.text(l, "status"));
    t.row("nodes", Fmt.text(l, "nodes") + " x " + Fmt.text(l, "gpusPerNode") + " GPUs");
    t.row("start", BidCommands.utc(Fmt.instant(l, "start")));
    t.row("end", BidCommands.utc(Fmt.instant(l, "end")));
    t.row("price", Fmt.text(l, "price") + " USD per GPU-hour");
    t.row("cost", Fmt.text(l, "cost") + " USD");
    if (l.hasNonNull("preemptAt")) {
      t.row(
          "preempt at",
          BidCommands.utc(Fmt.instant(l, "preemptAt")) + " (" + Fmt.text(l, "preemptKind") + ")");
    }
    t.row("epoch", Fmt.text(l, "epoch"));
    t.row("cleared", BidCommands.utc(Fmt.instant(l, "clearedAt")));
    return t;
  }
}
