package io.surplus.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./surplus fuzz}: the route fuzzer against a running service. */
@Command(
    name = "surplus fuzz",
    mixinStandardHelpOptions = true,
    description = {
      "Fuzzes every route of a running marketplace from its OpenAPI document: valid and hostile"
          + " requests from every role, seeded; then checks that every market still clears, credit"
          + " adds up and no refused request left state. Prints a table by route and status and"
          + " every distinct violation with a curl command; exits 1 on any violation."
    })
public final class FuzzMain implements Callable<Integer> {

  @Option(names = "--url", description = "the service (default: ${DEFAULT-VALUE})")
  URI url = URI.create("http://127.0.0.1:8080");

  @Option(names = "--requests", description = "requests to send (default: ${DEFAULT-VALUE})")
  long requests = 20_000;

  @Option(names = "--seed", description = "the seed (default: the clock; printed)")
  Long seed;

  @Option(names = "--admin-key", description = "an admin's API key (default: admin= in --keys)")
  String adminKey;

  @Option(
      names = "--keys",
      description = "demo keys file as ./surplus up writes it (default: ${DEFAULT-VALUE})")
  Path keys = Path.of("var", "demo-keys.properties");

  @Option(
      names = "--concurrency",
      description =
          "requests in flight at once (default: ${DEFAULT-VALUE}; 1 is fully reproducible)")
  int concurrency = 4;

  @Option(
      names = "--exclusive",
      description =
          "nothing else writes to the service (not a demo's traffic): also check that every window"
              + " on every timeline was accepted from the fuzzer")
  boolean exclusive;

  @Option(
      names = "--out",
      description = "where large request bodies of reproductions go (default: ${DEFAULT-VALUE})")
  Path out = Path.of("var", "fuzz");

  @Option(
      names = "--settle",
      description =
          "seconds the checks afterwards wait for markets and pending bids (default: ${DEFAULT-VALUE})")
  int settle = 60;

  public static void main(String[] args) {
    System.exit(new CommandLine(new FuzzMain()).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    String admin = adminKey;
    if (admin == null) {
      if (!Files.exists(keys)) {
        System.err.println(
            "surplus fuzz: no --admin-key and no "
                + keys
                + " (start the service with ./surplus up)");
        return 2;
      }
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(keys)) {
        p.load(in);
      }
      admin = p.getProperty("admin");
    }
    long s = seed != null ? seed : System.currentTimeMillis();
    RouteFuzzer.Config c =
        RouteFuzzer.Config.of(URI.create(url.toString().replaceAll("/+$", "")), admin, requests, s)
            .withConcurrency(concurrency)
            .withExclusive(exclusive)
            .withOut(out);
    c = c.withSettle(Duration.ofSeconds(settle));
    FuzzReport report = RouteFuzzer.run(c);
    report.print(System.out);
    return report.violations().isEmpty() ? 0 : 1;
  }
}
