package io.surplus.market.cassandra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The one Cassandra node of a test run: started by the first test that asks, stopped when the test
 * JVM exits, shared by every test class.
 */
public final class TestCassandra {

  private static CassandraNode node;
  private static CassandraNode.Settings settings;
  private static String classpath;

  private TestCassandra() {}

  public static synchronized CassandraNode node() {
    if (node == null) {
      try {
        classpath =
            Files.readString(Path.of(System.getProperty("surplus.cassandra.classpath-file")))
                .strip();
      } catch (IOException e) {
        throw new UncheckedIOException("run the build from the root: cassandra-node first", e);
      }
      settings =
          CassandraNode.Settings.onPort(
              Path.of(System.getProperty("surplus.cassandra.home")),
              Integer.getInteger("surplus.cassandra.cql-port", CassandraNode.DEFAULT_CQL_PORT));
      // a fresh node per test run: every test makes keyspaces of its own, and a data directory
      // kept from run to run piles up their schemas until the node's heap is all schema (seen:
      // thousands of keyspaces after a day of runs, a 1 GB heap in back-to-back full collections)
      deleteTree(settings.home());
      node = CassandraNode.start(settings, classpath, Duration.ofSeconds(180));
      Runtime.getRuntime().addShutdownHook(new Thread(TestCassandra::stop, "stop-test-cassandra"));
    }
    return node;
  }

  /**
   * Deletes {@code dir} and everything under it, if it is there (test nodes' and benches' homes).
   */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not clear the test node's directory " + dir, e);
    }
  }

  public static synchronized CassandraNode.Settings settings() {
    node();
    return settings;
  }

  /** Kills the node without a shutdown and starts it again on the same data. */
  public static synchronized CassandraNode restartAbruptly() {
    node().kill();
    node = CassandraNode.start(settings, classpath, Duration.ofSeconds(180));
    return node;
  }

  /** Kills the node and leaves it down, for tests of an outage; {@link #startAgain} ends it. */
  public static synchronized void killAndLeaveDown() {
    node().kill();
  }

  /** Starts the node again on the same data after {@link #killAndLeaveDown}. */
  public static synchronized CassandraNode startAgain() {
    node = CassandraNode.start(settings, classpath, Duration.ofSeconds(180));
    return node;
  }

  private static synchronized void stop() {
    if (node != null) {
      node.close();
    }
  }
}
