package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every command that calls the service shares: the resolved configuration, an {@link
 * ApiClient}, and printing either the API's JSON ({@code --json}) or a table.
 */
abstract class ApiCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public final Integer call() {
    run();
    out().flush();
    return SurplusCli.OK;
  }

  abstract void run();

  SurplusCli cli() {
    return (SurplusCli) spec.root().userObject();
  }

  /** A client with the key if one is configured. */
  ApiClient api() {
    return new ApiClient(cli().config());
  }

  /** A client for a call that needs the key: without one, a usage error saying how to set it. */
  ApiClient authenticated() {
    CliConfig c = cli().config();
    c.requireKey();
    return new ApiClient(c);
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  boolean json() {
    return cli().json();
  }

  /** The reply's JSON as it came under {@code --json}; else what {@code human} prints of it. */
  void print(ApiClient.Reply reply, Consumer<JsonNode> human) {
    if (json()) {
      out().println(reply.body());
    } else {
      human.accept(reply.json());
    }
    out().flush();
  }

  /** A line under a table pointing at the next page, when there is one. */
  void nextPage(JsonNode page, String command) {
    String next = Fmt.text(page, "nextCursor");
    if (next != null) {
      out().println("more: " + command + " --cursor " + next);
    }
  }
}
