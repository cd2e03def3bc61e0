package io.surplus.market.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The launcher starts a real node that takes writes and keeps them across a restart. */
class CassandraNodeTest {

  static CassandraNode.Settings settings;
  static String classpath;
  static CassandraNode node;

  @BeforeAll
  static void start() throws Exception {
    classpath =
        Files.readString(Path.of(System.getProperty("surplus.cassandra.classpath-file"))).strip();
    settings =
        CassandraNode.Settings.defaults(Path.of(System.getProperty("surplus.cassandra.home")));
    node = CassandraNode.start(settings, classpath, Duration.ofSeconds(120));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static CqlSession session() {
    return CqlSession.builder()
        .addContactPoint(node.cqlAddress())
        .withLocalDatacenter(CassandraNode.DATACENTER)
        .build();
  }

  @Test
  void shouldKeepAWriteAcrossAnAbruptNodeRestart() {
    long value = System.nanoTime();
    try (CqlSession s = session()) {
      s.execute(
          "CREATE KEYSPACE IF NOT EXISTS launcher_test WITH replication ="
              + " {'class': 'SimpleStrategy', 'replication_factor': 1}");
      s.execute("CREATE TABLE IF NOT EXISTS launcher_test.kv (k text PRIMARY KEY, v bigint)");
      s.execute("INSERT INTO launcher_test.kv (k, v) VALUES ('probe', " + value + ")");
    }
    if (node.owned()) {
      node.kill(); // no flush, no drain: the commit log must bring the row back
      assertTrue(!CassandraNode.answers(settings), "the node still answers after kill");
      node = CassandraNode.start(settings, classpath, Duration.ofSeconds(120));
    }
    try (CqlSession s = session()) {
      Row row = s.execute("SELECT v FROM launcher_test.kv WHERE k = 'probe'").one();
      assertEquals(value, row.getLong("v"));
    }
  }
}
