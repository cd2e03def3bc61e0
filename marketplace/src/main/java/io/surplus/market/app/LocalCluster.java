package io.surplus.market.app;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.config.OptionsMap;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.metadata.Node;
import io.surplus.market.cassandra.CassandraNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A whole cluster on one machine, as real processes: three Cassandra nodes in one ring (127.0.0.1,
 * .2 and .3, the same ports on each address) and three service JVMs in one Pekko Cluster (HTTP on
 * consecutive ports, each its own cluster and management port), keyspaces at replication factor 3,
 * every read and write at QUORUM. {@code ./surplus cluster up} runs it; the fault tests kill, stop,
 * freeze and start its processes one by one.
 */
public final class LocalCluster implements AutoCloseable {

  /** The Cassandra ring's addresses, one node each. */
  public static final List<String> HOSTS = List.of("127.0.0.1", "127.0.0.2", "127.0.0.3");

  /**
   * Where and how: {@code home} holds every node's data and logs; ports of node {@code i} are the
   * base ports plus {@code i} (Cassandra's are the same on every address).
   */
  public record Layout(
      Path home,
      int cqlPort,
      int storagePort,
      String cassandraHeap,
      int httpPort,
      int clusterPort,
      int managementPort,
      String serviceHeap,
      String classpath,
      Map<String, String> env) {

    /**
     * {@code ./surplus cluster up}'s layout: HTTP on 8080-8082, clear of {@code ./surplus up}'s
     * node.
     */
    public static Layout demo(Path home, String classpath) {
      return new Layout(home, 9242, 7200, "768m", 8080, 25520, 8558, "768m", classpath, Map.of());
    }

    public Layout withEnv(Map<String, String> more) {
      Map<String, String> all = new HashMap<>(env);
      all.putAll(more);
      return new Layout(
          home,
          cqlPort,
          storagePort,
          cassandraHeap,
          httpPort,
          clusterPort,
          managementPort,
          serviceHeap,
          classpath,
          Map.copyOf(all));
    }
  }

  private final Layout layout;
  private final String cassandraClasspath;
  private final CassandraNode[] cassandra = new CassandraNode[HOSTS.size()];
  private final Process[] services = new Process[HOSTS.size()];
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  public LocalCluster(Layout layout, String cassandraClasspath) {
    this.layout = layout;
    this.cassandraClasspath = cassandraClasspath;
  }

  public int size() {
    return HOSTS.size();
  }

  public Layout layout() {
    return layout;
  }

  // ------------------------------------------------------------------ Cassandra

  CassandraNode.Settings cassandraSettings(int i) {
    return CassandraNode.Settings.inRing(
        layout.home().resolve("cassandra-" + (i + 1)).toAbsolutePath(),
        HOSTS.get(i),
        layout.cqlPort(),
        layout.storagePort(),
        layout.cassandraHeap(),
        HOSTS.subList(0, 2));
  }

  /** Starts Cassandra node {@code i} (or reuses one answering there) and waits for CQL. */
  public synchronized void startCassandra(int i) {
    cassandra[i] =
        CassandraNode.start(cassandraSettings(i), cassandraClasspath, Duration.ofSeconds(240));
  }

  /** SIGKILL for Cassandra node {@code i}: no flush, no goodbye to the ring. */
  public synchronized void killCassandra(int i) {
    cassandra[i].kill();
  }

  /** The node's directory of hints (writes it holds for replicas that were down). */
  public Path hintsDirectory(int i) {
    return cassandraSettings(i).home().resolve("data/hints");
  }

  /** Every node's CQL address, for a driver. */
  public String contactPoints() {
    return String.join(",", HOSTS.stream().map(h -> h + ":" + layout.cqlPort()).toList());
  }

  // ------------------------------------------------------------------ services

  public int httpPort(int i) {
    return layout.httpPort() + i;
  }

  public String baseUri(int i) {
    return "http://127.0.0.1:" + httpPort(i);
  }

  /** The node's cluster address as the markets' health gives it ({@code host:port}). */
  public String clusterAddress(int i) {
    return "127.0.0.1:" + (layout.clusterPort() + i);
  }

  /** The service whose cluster address is {@code hostPort}, or -1. */
  public int serviceAt(String hostPort) {
    for (int i = 0; i < size(); i++) {
      if (clusterAddress(i).equals(hostPort)) {
        return i;
      }
    }
    return -1;
  }

  public Path serviceHome(int i) {
    return layout.home().resolve("service-" + (i + 1)).toAbsolutePath();
  }

  public Path serviceLog(int i) {
    return layout.home().resolve("logs").resolve("service-" + (i + 1) + ".log").toAbsolutePath();
  }

  /**
   * The seed nodes service {@code i} starts with. Pekko lets the first node of the list form a new
   * cluster when no other seed answers within {@code seed-node-timeout} (5 s): right for the first
   * start, wrong for a restart into a running cluster, where a slow answer on a busy machine would
   * leave two clusters, each running every market (a fork of their journals). So only a node that
   * starts while no other service of this cluster runs lists itself first (node 1 at {@link
   * #startAll}); a node started beside running ones lists only them, and joins them or waits.
   */
  synchronized List<String> seedNodes(int i) {
    List<String> others = new ArrayList<>();
    for (int j = 0; j < size(); j++) {
      if (j != i && services[j] != null && services[j].isAlive()) {
        others.add("pekko://surplus@" + clusterAddress(j));
      }
    }
    if (!others.isEmpty()) {
      return others;
    }
    List<String> forming = new ArrayList<>();
    forming.add("pekko://surplus@" + clusterAddress(i));
    for (int j = 0; j < size(); j++) {
      if (j != i) {
        forming.add("pekko://surplus@" + clusterAddress(j));
      }
    }
    return forming;
  }

  Map<String, String> serviceEnv(int i) {
    Map<String, String> env = new HashMap<>();
    env.put("SURPLUS_HTTP_PORT", Integer.toString(httpPort(i)));
    env.put("SURPLUS_CLUSTER_HOST", "127.0.0.1");
    env.put("SURPLUS_CLUSTER_PORT", Integer.toString(layout.clusterPort() + i));
    env.put("SURPLUS_MANAGEMENT_PORT", Integer.toString(layout.managementPort() + i));
    env.put(Deployment.SEED_NODES, String.join(",", seedNodes(i)));
    env.put(Deployment.CONTACT_POINTS, contactPoints());
    env.put("SURPLUS_REPLICATION_FACTOR", "3");
    env.put("SURPLUS_CASSANDRA_CONSISTENCY", "QUORUM");
    // every node signs and checks the same stream tokens
    env.put("SURPLUS_STREAM_TOKEN_SECRET", "local-cluster-stream-token-secret-0123456789");
    env.putAll(layout.env());
    return env;
  }

  /**
   * Starts service {@code i} with {@code args} after {@link SurplusMain}'s name (e.g. {@code
   * --demo}); its output goes to {@link #serviceLog}. Returns at once: see {@link #awaitReady}.
   */
  public synchronized Process startService(int i, String... args) {
    try {
      Files.createDirectories(serviceHome(i));
      Files.createDirectories(serviceLog(i).getParent());
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx" + layout.serviceHeap());
      cmd.add("-XX:+UseG1GC");
      cmd.add("-cp");
      cmd.add(layout.classpath());
      cmd.add(SurplusMain.class.getName());
      cmd.add("--var");
      cmd.add(serviceHome(i).toString());
      cmd.addAll(List.of(args));
      ProcessBuilder pb =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(serviceLog(i).toFile()));
      pb.environment().putAll(serviceEnv(i));
      services[i] = pb.start();
      return services[i];
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start service " + (i + 1), e);
    }
  }

  public synchronized Process service(int i) {
    return services[i];
  }

  /** SIGKILL: no shutdown, no leaving the cluster. */
  public void killService(int i) {
    Process p = service(i);
    p.destroyForcibly();
    waitFor(p, Duration.ofSeconds(30));
  }

  /**
   * SIGTERM: the node leaves the cluster through Coordinated Shutdown, handing its shards over, and
   * exits; waits up to {@code timeout} for that.
   */
  public boolean stopService(int i, Duration timeout) {
    Process p = service(i);
    p.destroy();
    return waitFor(p, timeout);
  }

  /** SIGSTOP: the process is frozen, its sockets open, as in a long pause. */
  public void freezeService(int i) {
    signal(service(i), "STOP");
  }

  /** SIGCONT after {@link #freezeService}. */
  public void thawService(int i) {
    signal(service(i), "CONT");
  }

  private static void signal(Process p, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static boolean waitFor(Process p, Duration d) {
    try {
      return p.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether service {@code i} answers {@code /health/ready} with 200. */
  public boolean ready(int i) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(baseUri(i) + "/health/ready"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Waits until service {@code i} is ready; fails if its process exits or the time runs out. */
  public void awaitReady(int i, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ready(i)) {
      Process p = service(i);
      if (p != null && !p.isAlive()) {
        throw new IllegalStateException(
            "service " + (i + 1) + " exited with " + p.exitValue() + "; see " + serviceLog(i));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "service " + (i + 1) + " not ready within " + timeout + "; see " + serviceLog(i));
      }
      pause(Duration.ofMillis(500)); // polling a process we do not own the events of
    }
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits until every node of the ring lists every other as a peer with its own schema version. A
   * node's peers table lags its gossip: keyspaces created before it caught up were found missing on
   * the next node that coordinated a statement (the driver's schema agreement asks the one node it
   * is connected to, which did not list the others yet).
   */
  public void awaitRing(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ringSettled()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the Cassandra ring did not settle within " + timeout);
      }
      pause(Duration.ofMillis(500));
    }
  }

  private boolean ringSettled() {
    try (CqlSession session = session()) {
      Set<UUID> versions = new HashSet<>();
      for (Node node : session.getMetadata().getNodes().values()) {
        Row local =
            session
                .execute(
                    SimpleStatement.newInstance("SELECT schema_version FROM system.local")
                        .setNode(node))
                .one();
        List<Row> peers =
            session
                .execute(
                    SimpleStatement.newInstance("SELECT peer, schema_version FROM system.peers_v2")
                        .setNode(node))
                .all();
        if (local == null || peers.size() != HOSTS.size() - 1) {
          return false;
        }
        versions.add(local.getUuid("schema_version"));
        peers.forEach(p -> versions.add(p.getUuid("schema_version")));
      }
      return session.getMetadata().getNodes().size() == HOSTS.size() && versions.size() == 1;
    } catch (RuntimeException e) {
      return false; // a node not answering yet
    }
  }

  /**
   * A driver session on the ring alone: the driver's defaults, not the application's configuration,
   * whose contact points (another node, a test run's) it would otherwise add to these.
   */
  public CqlSession session() {
    return CqlSession.builder()
        .withConfigLoader(DriverConfigLoader.fromMap(OptionsMap.driverDefaults()))
        .addContactPoints(
            HOSTS.stream().map(h -> new InetSocketAddress(h, layout.cqlPort())).toList())
        .withLocalDatacenter(CassandraNode.DATACENTER)
        .build();
  }

  /** Starts the ring, then the first service, then the other two; waits until all are ready. */
  public void startAll(String... firstServiceArgs) {
    for (int i = 0; i < size(); i++) {
      startCassandra(i);
    }
    awaitRing(Duration.ofMinutes(2));
    startService(0, firstServiceArgs);
    awaitReady(0, Duration.ofMinutes(4));
    for (int i = 1; i < size(); i++) {
      startService(i);
    }
    for (int i = 1; i < size(); i++) {
      awaitReady(i, Duration.ofMinutes(4));
    }
  }

  /** Stops every service (SIGTERM, then SIGKILL), then every Cassandra node. */
  @Override
  public void close() {
    for (int i = size() - 1; i >= 0; i--) {
      Process p = service(i);
      if (p != null && p.isAlive()) {
        p.destroy();
      }
    }
    for (int i = size() - 1; i >= 0; i--) {
      Process p = service(i);
      if (p != null && !waitFor(p, Duration.ofSeconds(30))) {
        p.destroyForcibly();
        waitFor(p, Duration.ofSeconds(10));
      }
    }
    for (int i = size() - 1; i >= 0; i--) {
      if (cassandra[i] != null) {
        cassandra[i].close();
      }
    }
  }
}
