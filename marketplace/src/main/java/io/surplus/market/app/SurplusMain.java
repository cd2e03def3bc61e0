package io.surplus.market.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.surplus.feed.drive.DriverConfig;
import io.surplus.feed.drive.FeedDriver;
import io.surplus.market.accounts.Account;
import io.surplus.market.accounts.ApiKeys;
import io.surplus.market.accounts.KeyIndex;
import io.surplus.market.cassandra.CassandraNode;
import io.surplus.market.http.Role;
import io.surplus.market.settings.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs the marketplace: optionally its own Cassandra node (development), then the service, and with
 * {@code --demo} demo accounts (keys kept under the var directory and printed) and a demo provider
 * and bidder that keep the markets moving through the public API.
 */
@Command(
    name = "surplus-service",
    mixinStandardHelpOptions = true,
    description = "The Surplus marketplace service.")
public final class SurplusMain implements Callable<Integer> {

  @Option(
      names = "--embedded-cassandra",
      description = "start (or reuse) the development Cassandra node under <var>/cassandra")
  boolean embeddedCassandra;

  @Option(
      names = "--commitlog-sync",
      description =
          "with --embedded-cassandra: periodic (a 201 survives a crash of either process, not a"
              + " power loss within 10 s) or group (it survives a power loss too); default"
              + " ${DEFAULT-VALUE}, or SURPLUS_COMMITLOG_SYNC")
  String commitlogSync = System.getenv().getOrDefault("SURPLUS_COMMITLOG_SYNC", "periodic");

  @Option(names = "--cassandra-classpath-file", description = "Cassandra's class path file")
  Path cassandraClasspathFile = Path.of("cassandra-node/target/cassandra.classpath");

  @Option(names = "--var", description = "where local data lives (default: ${DEFAULT-VALUE})")
  Path var = Path.of("var");

  @Option(
      names = "--demo",
      description =
          "create demo accounts and run the simulated training fleet and its outside demand"
              + " in-process, through the public API")
  boolean demo;

  @Option(
      names = "--speed",
      description =
          "with --demo: simulated seconds per real second (default ${DEFAULT-VALUE}); the market's"
              + " slot becomes 900/speed seconds")
  double speed = DriverConfig.DEFAULT_SPEED;

  @Option(
      names = "--seed",
      description = "with --demo: the simulation's seed (default ${DEFAULT-VALUE})")
  long seed = DriverConfig.DEFAULT_SEED;

  @Option(
      names = "--demo-accounts",
      description =
          "create the demo accounts (keys in <var>/demo-keys.properties), no demo traffic")
  boolean demoAccounts;

  /**
   * The JDK runs a {@code CompletableFuture}'s async stages on the common pool only when its
   * parallelism is at least 2, and otherwise starts a new thread for every stage. Its default is
   * one less than the cores, so on a 2-core machine every callback on an ask's answer (Scala's
   * future converter makes even {@code thenApply} async) cost a thread start: 11,586 threads in
   * three minutes of load, and stalls of seconds. Set before anything touches ForkJoinPool.
   */
  static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(
          COMMON_POOL_PARALLELISM,
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
    System.exit(new CommandLine(new SurplusMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    CassandraNode node = null;
    if (embeddedCassandra) {
      String cp = Files.readString(cassandraClasspathFile).strip();
      System.out.println("surplus: starting Cassandra under " + var.resolve("cassandra") + " ...");
      node =
          CassandraNode.start(
              CassandraNode.Settings.defaults(var.resolve("cassandra").toAbsolutePath())
                  .withSync(CassandraNode.CommitlogSync.parse(commitlogSync)),
              cp,
              Duration.ofSeconds(180));
      System.out.println("surplus: Cassandra answers on " + node.cqlAddress());
    }
    Config config = Deployment.of(System.getenv(), ConfigFactory.load());
    if (demo) {
      int slotSeconds = DriverConfig.slotSecondsFor(speed);
      checkSlotLength(slotSeconds);
      config =
          ConfigFactory.parseString("surplus.slot-seconds = " + slotSeconds).withFallback(config);
    }
    Settings settings = Settings.from(config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "surplus", config);
    CassandraNode started = node;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  system.terminate();
                  try {
                    system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
                  } catch (Exception e) {
                    // exiting anyway
                  }
                  if (started != null) {
                    started.close();
                  }
                },
                "surplus-shutdown"));
    SurplusService service =
        SurplusService.start(system, settings).toCompletableFuture().get(180, TimeUnit.SECONDS);
    String base = "http://" + settings.httpHost() + ":" + service.port();
    System.out.println("surplus: listening on " + base + " (the web board: " + base + "/)");
    if (service.marketDataPort() >= 0) {
      System.out.println(
          "surplus: market data on ws://"
              + settings.httpHost()
              + ":"
              + service.marketDataPort()
              + "/v1/stream");
    }
    if (demo || demoAccounts) {
      Properties keys = demoAccounts(system, service.keyIndex());
      if (demo) {
        FeedDriver driver =
            new FeedDriver(
                DriverConfig.builder(java.net.URI.create(base), keys.getProperty("provider"))
                    .bidderKey(keys.getProperty("bidder"))
                    .seed(seed)
                    .speed(speed)
                    .slotSeconds(settings.clock().slotSeconds())
                    .horizonSlots(settings.clock().horizonSlots())
                    .build());
        driver.start();
        CoordinatedShutdown.get(system)
            .addTask(
                CoordinatedShutdown.PhaseServiceUnbind(),
                "stop-simulated-feed",
                () -> {
                  driver.close();
                  return java.util.concurrent.CompletableFuture.completedFuture(
                      org.apache.pekko.Done.getInstance());
                });
        System.out.println(
            "surplus: simulated fleet (seed "
                + seed
                + ") feeding windows and bids at "
                + speed
                + "x; a market slot is "
                + settings.clock().slotSeconds()
                + " s");
      }
      System.out.println();
      System.out.println("  bidder key:   " + keys.getProperty("bidder"));
      System.out.println("  provider key: " + keys.getProperty("provider"));
      System.out.println("  admin key:    " + keys.getProperty("admin"));
      System.out.println();
      System.out.println("  try:  curl -s " + base + "/v1/markets");
      System.out.println(
          "        curl -s -H 'Authorization: Bearer "
              + keys.getProperty("bidder")
              + "' "
              + base
              + "/v1/account");
      System.out.println("  (README.md has more; Ctrl-C stops everything)");
    }
    system.getWhenTerminated().toCompletableFuture().get();
    return 0;
  }

  /**
   * Events store slot numbers, so the data under the var directory holds only for the slot length
   * it was written with: a demo at another speed needs a fresh directory.
   */
  void checkSlotLength(int slotSeconds) throws IOException {
    Path file = var.resolve("slot-seconds");
    if (Files.exists(file)) {
      int before = Integer.parseInt(Files.readString(file).strip());
      if (before != slotSeconds) {
        throw new CommandLine.ParameterException(
            new CommandLine(this),
            "the data under "
                + var
                + " uses "
                + before
                + " s slots, this speed needs "
                + slotSeconds
                + " s; remove "
                + var
                + " or keep the speed");
      }
    } else {
      Files.createDirectories(var);
      Files.writeString(file, Integer.toString(slotSeconds));
    }
  }

  /** Demo account ids: fixed, so a restart finds them again. */
  static final long ADMIN = 1, BIDDER = 2, PROVIDER = 3;

  /**
   * Creates the demo admin, bidder and provider on first run and keeps their keys in {@code
   * <var>/demo-keys.properties} (only hashes are in Cassandra, so the file is the one copy).
   */
  Properties demoAccounts(ActorSystem<?> system, KeyIndex index) throws IOException {
    Path file = var.resolve("demo-keys.properties");
    Properties keys = new Properties();
    if (Files.exists(file)) {
      try (var in = Files.newInputStream(file)) {
        keys.load(in);
      }
      // a var directory from before the key index: its keys go in (idempotent)
      for (String label : keys.stringPropertyNames()) {
        String key = keys.getProperty(label);
        long account = ApiKeys.accountOf(key);
        if (account > 0) {
          index.register(ApiKeys.hash(key), account).toCompletableFuture().join();
        }
      }
      return keys;
    }
    create(system, index, ADMIN, Role.ADMIN, "demo admin", 0, "admin", keys);
    create(system, index, BIDDER, Role.BIDDER, "demo bidder", 50_000_000_000L, "bidder", keys);
    create(system, index, PROVIDER, Role.PROVIDER, "demo provider", 0, "provider", keys);
    Files.createDirectories(var);
    // written aside, then moved into place: whoever waits for the file reads it whole
    Path written = var.resolve("demo-keys.properties.tmp");
    try (var out = Files.newOutputStream(written)) {
      keys.store(out, "Surplus demo API keys (only their hashes are stored in Cassandra)");
    }
    Files.move(
        written,
        file,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return keys;
  }

  private static void create(
      ActorSystem<?> system,
      KeyIndex index,
      long id,
      Role role,
      String name,
      long credit,
      String label,
      Properties keys) {
    String key = ApiKeys.generate(id);
    index.register(ApiKeys.hash(key), id).toCompletableFuture().join();
    Account.Created c =
        Account.create(
                system,
                id,
                role,
                name,
                credit,
                ApiKeys.hash(key),
                Long.MAX_VALUE,
                Duration.ofSeconds(30))
            .toCompletableFuture()
            .join();
    if (!c.created()) {
      throw new IllegalStateException(
          "demo account "
              + id
              + " exists but its key file is gone; remove the var directory to start afresh");
    }
    keys.setProperty(label, key);
  }
}
