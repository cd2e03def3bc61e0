package io.surplus.market.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import org.junit.jupiter.api.Test;

/** The launcher starts a real node that takes writes and keeps them across an abrupt restart. */
class CassandraNodeTest {

  static CqlSession session() {
    return CqlSession.builder()
        .addContactPoint(TestCassandra.node().cqlAddress())
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
    if (TestCassandra.node().owned()) {
      CassandraNode before = TestCassandra.node();
      CassandraNode after = TestCassandra.restartAbruptly(); // no flush, no drain
      assertFalse(before == after);
    }
    try (CqlSession s = session()) {
      Row row = s.execute("SELECT v FROM launcher_test.kv WHERE k = 'probe'").one();
      assertEquals(value, row.getLong("v"));
    }
  }

  @Test
  void shouldWriteTheCommitLogSyncModeItIsGivenAndRefuseAnUnknownOne() {
    CassandraNode.Settings periodic = CassandraNode.Settings.defaults(java.nio.file.Path.of("n"));
    String p = CassandraNode.yaml(periodic);
    org.junit.jupiter.api.Assertions.assertTrue(
        p.contains("commitlog_sync: periodic\ncommitlog_sync_period: 10000ms\n"), p);
    String g = CassandraNode.yaml(periodic.withSync(CassandraNode.CommitlogSync.parse("Group")));
    org.junit.jupiter.api.Assertions.assertTrue(
        g.contains("commitlog_sync: group\ncommitlog_sync_group_window: 2ms\n"), g);
    org.junit.jupiter.api.Assertions.assertFalse(g.contains("periodic"), g);
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> CassandraNode.CommitlogSync.parse("batch"));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'batch'"), e.getMessage());
  }
}
