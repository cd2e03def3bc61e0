package io.surplus.market.app;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./surplus cluster up}: the whole product as a three-node cluster on this machine ({@link
 * LocalCluster}), the simulated fleet and its demand feeding the first node; Ctrl-C or SIGTERM
 * stops it all.
 */
@Command(
    name = "surplus-cluster",
    mixinStandardHelpOptions = true,
    description = "Three Cassandra nodes and three service nodes in one cluster, on this machine.")
public final class ClusterMain implements Callable<Integer> {

  @Option(
      names = "--var",
      description = "where the cluster's data lives (default: ${DEFAULT-VALUE})")
  Path var = Path.of("var/cluster");

  @Option(names = "--cassandra-classpath-file", description = "Cassandra's class path file")
  Path cassandraClasspathFile = Path.of("cassandra-node/target/cassandra.classpath");

  @Option(names = "--speed", description = "the simulated fleet's speed (default ${DEFAULT-VALUE})")
  double speed = io.surplus.feed.drive.DriverConfig.DEFAULT_SPEED;

  @Option(names = "--seed", description = "the simulation's seed (default ${DEFAULT-VALUE})")
  long seed = io.surplus.feed.drive.DriverConfig.DEFAULT_SEED;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ClusterMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    String cassandraClasspath = Files.readString(cassandraClasspathFile).strip();
    // every node on the demo's slot grid (the first node's --demo sets the same for itself)
    int slotSeconds = io.surplus.feed.drive.DriverConfig.slotSecondsFor(speed);
    LocalCluster cluster =
        new LocalCluster(
            LocalCluster.Layout.demo(var, System.getProperty("java.class.path"))
                .withEnv(
                    java.util.Map.of(
                        "SURPLUS_SLOT_SECONDS",
                        Integer.toString(slotSeconds),
                        "SURPLUS_REPAIR_PASS",
                        System.getenv().getOrDefault("SURPLUS_REPAIR_PASS", "on"))),
            cassandraClasspath);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("surplus cluster: stopping the services, then Cassandra");
                  cluster.close();
                  stopped.countDown();
                },
                "stop-cluster"));
    System.out.println(
        "surplus cluster: starting Cassandra on "
            + String.join(", ", LocalCluster.HOSTS)
            + " and three service nodes (logs under "
            + var.resolve("logs")
            + ") ...");
    List<String> demo = new ArrayList<>(List.of("--demo", "--speed", Double.toString(speed)));
    demo.addAll(List.of("--seed", Long.toString(seed)));
    cluster.startAll(demo.toArray(String[]::new));
    System.out.println();
    for (int i = 0; i < cluster.size(); i++) {
      System.out.println(
          "  node "
              + (i + 1)
              + ": "
              + cluster.baseUri(i)
              + "  (cluster 127.0.0.1:"
              + (cluster.layout().clusterPort() + i)
              + ", management http://127.0.0.1:"
              + (cluster.layout().managementPort() + i)
              + "/cluster/members)");
    }
    System.out.println(
        "  demo keys: " + cluster.serviceHome(0).resolve("demo-keys.properties") + "\n");
    System.out.println("surplus cluster: up; Ctrl-C stops it all");
    stopped.await();
    return 0;
  }
}
