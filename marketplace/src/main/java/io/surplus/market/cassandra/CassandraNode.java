package io.surplus.market.cassandra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real single Cassandra node for development and tests, run from Maven Central's {@code
 * cassandra-all} in a JVM of its own: writes a {@code cassandra.yaml} under its home directory,
 * starts {@code CassandraDaemon} with the flags Java 17 needs, and waits until CQL answers. If a
 * node already answers on the CQL port it is reused and left running on close; a node this class
 * started is stopped on close.
 */
public final class CassandraNode implements AutoCloseable {

  /** util-linux's setsid, on every Debian. */
  private static final String SETSID = "/usr/bin/setsid";

  /** Default CQL port: clear of a system Cassandra's 9042. */
  public static final int DEFAULT_CQL_PORT = 9142;

  /** Default internode port: clear of a system Cassandra's 7000. */
  public static final int DEFAULT_STORAGE_PORT = 7100;

  /** The datacenter of {@code SimpleSnitch}, for the driver's local datacenter. */
  public static final String DATACENTER = "datacenter1";

  /**
   * When the node's commit log reaches the disk, and so what a write it has acknowledged survives
   * (docs/MARKETPLACE.md, "What a 201 survives").
   *
   * <ul>
   *   <li>{@code PERIODIC}: acknowledged at once, synced every 10 s; survives a crash of the
   *       Cassandra process (the log is in the OS's page cache), not a power loss within 10 s.
   *   <li>{@code GROUP}: acknowledged once the log holding it is synced; syncs at most every 2 ms,
   *       each covering every write that arrived meanwhile; survives a power loss.
   * </ul>
   */
  public enum CommitlogSync {
    PERIODIC,
    GROUP;

    /** {@code periodic} or {@code group}, any case. */
    public static CommitlogSync parse(String text) {
      try {
        return valueOf(text.strip().toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "commit log sync must be periodic or group, not '" + text + "'", e);
      }
    }

    String yaml() {
      return this == PERIODIC
          ? "commitlog_sync: periodic\ncommitlog_sync_period: 10000ms"
          : "commitlog_sync: group\ncommitlog_sync_group_window: 2ms";
    }
  }

  /**
   * Where and how to run the node. {@code seeds} (host:port, comma-separated) is the node itself
   * for a single node; for a member of a ring ({@link #inRing}) the ring's seed nodes.
   */
  public record Settings(
      Path home,
      String host,
      int cqlPort,
      int storagePort,
      String heap,
      CommitlogSync sync,
      String clusterName,
      String seeds) {

    public static Settings defaults(Path home) {
      return onPort(home, DEFAULT_CQL_PORT);
    }

    /** Defaults with another CQL port; the internode port keeps the same distance from it. */
    public static Settings onPort(Path home, int cqlPort) {
      int storagePort = cqlPort - DEFAULT_CQL_PORT + DEFAULT_STORAGE_PORT;
      return new Settings(
          home,
          "127.0.0.1",
          cqlPort,
          storagePort,
          "1g",
          CommitlogSync.PERIODIC,
          "surplus-dev",
          "127.0.0.1:" + storagePort);
    }

    /**
     * A member of a ring of nodes on one machine, each on its own loopback address ({@code host},
     * e.g. 127.0.0.2) with the same ports: {@code seeds} are the addresses of the ring's seed
     * nodes.
     */
    public static Settings inRing(
        Path home, String host, int cqlPort, int storagePort, String heap, List<String> seeds) {
      String seedList = String.join(",", seeds.stream().map(h -> h + ":" + storagePort).toList());
      return new Settings(
          home, host, cqlPort, storagePort, heap, CommitlogSync.PERIODIC, "surplus-ring", seedList);
    }

    public Settings withSync(CommitlogSync sync) {
      return new Settings(home, host, cqlPort, storagePort, heap, sync, clusterName, seeds);
    }

    /** Whether this node is one of several: it joins the ring without streaming (see yaml). */
    boolean ringMember() {
      return !seeds.equals(host + ":" + storagePort);
    }
  }

  private static final List<String> JAVA17_FLAGS =
      List.of(
          "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
          "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
          "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
          "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
          "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
          "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
          "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
          "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens", "java.base/java.io=ALL-UNNAMED",
          "--add-opens", "java.base/java.nio=ALL-UNNAMED",
          "--add-opens", "java.base/java.util=ALL-UNNAMED",
          "--add-opens", "java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang=ALL-UNNAMED",
          "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens", "java.base/java.math=ALL-UNNAMED",
          "--add-opens", "java.base/java.net=ALL-UNNAMED");

  private final Settings settings;
  private final Process process;

  private CassandraNode(Settings settings, Process process) {
    this.settings = settings;
    this.process = process;
  }

  /**
   * Starts a node (or reuses the one answering on the CQL port) and waits up to {@code timeout} for
   * CQL.
   *
   * @param classpath Cassandra's class path, as resolved by the cassandra-node module
   */
  public static CassandraNode start(Settings settings, String classpath, Duration timeout) {
    if (answers(settings)) {
      return new CassandraNode(settings, null);
    }
    try {
      Path conf = settings.home().resolve("conf");
      Path logs = settings.home().resolve("logs");
      Files.createDirectories(conf);
      Files.createDirectories(logs);
      Path yaml = conf.resolve("cassandra.yaml");
      Files.writeString(yaml, yaml(settings), StandardCharsets.UTF_8);
      Path logback = conf.resolve("logback.xml");
      Files.writeString(logback, logback(logs), StandardCharsets.UTF_8);

      List<String> cmd = new ArrayList<>();
      if (Files.isExecutable(Path.of(SETSID))) {
        // its own session: a Ctrl-C in the terminal reaches the service, which then stops the node
        // after its own shutdown, instead of killing both at once
        cmd.add(SETSID);
      }
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xms" + settings.heap());
      cmd.add("-Xmx" + settings.heap());
      cmd.add("-XX:+UseG1GC");
      // its pauses show in every write's latency: logged beside its other logs (./surplus load
      // reports them)
      cmd.add("-Xlog:gc:file=" + logs.resolve("gc.log"));
      cmd.add("-XX:ActiveProcessorCount=2");
      cmd.add("-Djdk.attach.allowAttachSelf=true");
      cmd.addAll(JAVA17_FLAGS);
      cmd.add("-Dcassandra.config=" + yaml.toUri());
      cmd.add("-Dcassandra-foreground=yes");
      cmd.add("-Dcassandra.storagedir=" + settings.home().resolve("data"));
      cmd.add("-Dlogback.configurationFile=" + logback.toUri());
      cmd.add("-Dcassandra.skip_wait_for_gossip_to_settle=0");
      if (settings.ringMember()) {
        // the ring's nodes join at the same time (none streams: auto_bootstrap is off)
        cmd.add("-Dcassandra.consistent.rangemovement=false");
        cmd.add("-Dcassandra.ring_delay_ms=5000");
      }
      cmd.add("-cp");
      cmd.add(classpath);
      cmd.add("org.apache.cassandra.service.CassandraDaemon");
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(logs.resolve("stdout.log").toFile())
              .start();
      CassandraNode node = new CassandraNode(settings, p);
      node.awaitCql(timeout);
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start Cassandra under " + settings.home(), e);
    }
  }

  private void awaitCql(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!answers(settings)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "Cassandra exited with code "
                + process.exitValue()
                + "; see "
                + settings.home().resolve("logs"));
      }
      if (System.nanoTime() > deadline) {
        close();
        throw new IllegalStateException(
            "Cassandra did not answer CQL on port "
                + settings.cqlPort()
                + " within "
                + timeout
                + "; see "
                + settings.home().resolve("logs"));
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new IllegalStateException("interrupted while waiting for Cassandra", e);
      }
    }
  }

  /** Whether something accepts connections on the node's CQL port. */
  static boolean answers(Settings s) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(s.host(), s.cqlPort()), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public InetSocketAddress cqlAddress() {
    return new InetSocketAddress(settings.host(), settings.cqlPort());
  }

  /** Whether this node was started here (and so is stopped by {@link #close()}). */
  public boolean owned() {
    return process != null;
  }

  /** Kills the node without a shutdown: for tests of abrupt loss. */
  public void kill() {
    if (process != null) {
      process.destroyForcibly();
      waitFor(Duration.ofSeconds(30));
    }
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!waitFor(Duration.ofSeconds(30))) {
        process.destroyForcibly();
        waitFor(Duration.ofSeconds(10));
      }
    }
  }

  private boolean waitFor(Duration d) {
    try {
      return process.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static String yaml(Settings s) {
    Path h = s.home().toAbsolutePath();
    return String.join(
            "\n",
            "cluster_name: " + s.clusterName(),
            "num_tokens: 16",
            "partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
            s.sync().yaml(),
            "endpoint_snitch: SimpleSnitch",
            "seed_provider:",
            "  - class_name: org.apache.cassandra.locator.SimpleSeedProvider",
            "    parameters:",
            "      - seeds: \"" + s.seeds() + "\"",
            "listen_address: " + s.host(),
            "rpc_address: " + s.host(),
            "storage_port: " + s.storagePort(),
            "native_transport_port: " + s.cqlPort(),
            "start_native_transport: true",
            "data_file_directories:",
            "  - " + h.resolve("data/data"),
            "commitlog_directory: " + h.resolve("data/commitlog"),
            "saved_caches_directory: " + h.resolve("data/saved_caches"),
            "hints_directory: " + h.resolve("data/hints"),
            "cdc_raw_directory: " + h.resolve("data/cdc_raw"),
            "batch_size_fail_threshold: 256KiB",
            // a ring's nodes all start empty together, so none has data to stream to another
            s.ringMember() ? "auto_bootstrap: false" : "",
            "")
        + "\n";
  }

  private static String logback(Path logs) {
    return """
        <configuration>
          <appender name="FILE" class="ch.qos.logback.core.FileAppender">
            <file>%s</file>
            <encoder><pattern>%%d %%-5level [%%thread] %%logger{36} - %%msg%%n</pattern></encoder>
          </appender>
          <root level="INFO"><appender-ref ref="FILE"/></root>
        </configuration>
        """
        .formatted(logs.resolve("system.log"));
  }
}
