package io.surplus.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The bidder's command line: {@code surplus bid|leases|market|watch}. It talks to a running
 * marketplace over its HTTP API and WebSocket stream only. The environment comes in through the
 * constructor (tests pass their own map), so nothing here reads {@code System.getenv} except {@link
 * #main}.
 */
@Command(
    name = "surplus",
    mixinStandardHelpOptions = true,
    version = "surplus bidder CLI 0.1.0",
    description = "Bid for surplus GPU capacity on a Surplus marketplace and watch its markets.",
    subcommands = {
      BidCommands.class,
      LeasesCommand.class,
      MarketCommands.class,
      ProviderCommands.class,
      WatchCommand.class,
      HelpCommand.class
    },
    footerHeading = "%nConfiguration:%n",
    footer = {
      "  URL:   --url, else SURPLUS_URL, else url= in the config file,",
      "         else http://127.0.0.1:8080",
      "  key:   SURPLUS_API_KEY, else key= in the config file",
      "  file:  --config FILE, else $SURPLUS_CONFIG,",
      "         else ~/.config/surplus/cli.properties",
      "  Tables by default; --json prints the API's JSON as it came.",
      "  Reference: docs/CLI.md"
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:done",
      "1:the service refused the request (4xx: bad key, not found, a field breaks a rule, ...)",
      "2:usage error (unknown option, bad value, no API key, unreadable config file)",
      "3:the service is unavailable or unreachable (503, 5xx, connection refused, timeout)"
    })
public final class SurplusCli {

  public static final int OK = 0;
  public static final int API_ERROR = 1;
  public static final int USAGE = 2;
  public static final int UNAVAILABLE = 3;

  @Option(
      names = "--url",
      scope = ScopeType.INHERIT,
      paramLabel = "URL",
      description = "The marketplace, e.g. http://127.0.0.1:8080 (default: see surplus --help).")
  String url;

  @Option(
      names = "--config",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "Properties file with url= and key= (default: see surplus --help).")
  Path config;

  @Option(
      names = "--json",
      scope = ScopeType.INHERIT,
      description = "Print the API's JSON instead of a table.")
  boolean json;

  private final Map<String, String> env;

  public SurplusCli(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /** What one command printed, to standard output and to standard error, and its exit code. */
  public record Result(int code, String out, String err) {}

  /**
   * Runs one command in this JVM over {@code env}, as {@code surplus} would in a shell, and keeps
   * what it printed (for embedding the CLI, and for its tests).
   */
  public static Result execute(Map<String, String> env, String... args) {
    CommandLine cl = commandLine(env);
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  /** The command line over {@code env}, with the CLI's error handling and exit codes. */
  public static CommandLine commandLine(Map<String, String> env) {
    SurplusCli cli = new SurplusCli(env);
    CommandLine cl = new CommandLine(cli).setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (!(e instanceof CliError error)) {
            throw e;
          }
          if (cli.json && error.body() != null) {
            cmd.getOut().println(error.body());
            cmd.getOut().flush();
          }
          cmd.getErr().println("surplus: " + error.getMessage());
          cmd.getErr().flush();
          return error.exitCode();
        });
    cl.setParameterExceptionHandler(SurplusCli::usageError);
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine(System.getenv()).execute(args));
  }

  private static int usageError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("surplus: " + e.getMessage());
    if (!UnmatchedArgumentException.printSuggestions(e, err)
        && !cmd.getSubcommands().isEmpty()
        && e.getMessage().startsWith("Missing required subcommand")) {
      cmd.usage(err);
    } else {
      err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
    }
    err.flush();
    return USAGE;
  }

  /** Where the service is and the key, resolved from the options, environment and file. */
  CliConfig config() {
    return CliConfig.resolve(env, url, config);
  }

  boolean json() {
    return json;
  }
}
