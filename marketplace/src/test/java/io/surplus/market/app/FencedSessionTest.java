package io.surplus.market.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.surplus.market.cassandra.CassandraNode;
import io.surplus.market.cassandra.TestCassandra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fenced session against the real node: after a long pause no statement reaches Cassandra. */
class FencedSessionTest {

  static CqlSession cql;

  final AtomicLong now = new AtomicLong(1_000_000_000L);
  final List<Long> fencedAfter = new ArrayList<>();
  final PauseFence fence =
      new PauseFence(Duration.ofSeconds(10), now::get, () -> false, fencedAfter::add);

  @BeforeAll
  static void connect() {
    cql =
        CqlSession.builder()
            .addContactPoint(TestCassandra.node().cqlAddress())
            .withLocalDatacenter(CassandraNode.DATACENTER)
            .build();
    cql.execute(
        "CREATE KEYSPACE IF NOT EXISTS fenced_session_test WITH replication ="
            + " {'class': 'SimpleStrategy', 'replication_factor': 1}");
    cql.execute(
        "CREATE TABLE IF NOT EXISTS fenced_session_test.events"
            + " (id text, seq bigint, PRIMARY KEY (id, seq))");
  }

  @AfterAll
  static void close() {
    cql.execute("DROP KEYSPACE IF EXISTS fenced_session_test");
    cql.close();
  }

  static SimpleStatement insert(String id, long seq) {
    return SimpleStatement.newInstance(
        "INSERT INTO fenced_session_test.events (id, seq) VALUES (?, ?)", id, seq);
  }

  static long rows(String id) {
    return cql.execute(
            SimpleStatement.newInstance(
                "SELECT count(*) FROM fenced_session_test.events WHERE id = ?", id))
        .one()
        .getLong(0);
  }

  @Test
  void shouldSendNothingOnceAPausePastTheLimitIsSeen() {
    FencedSession session = new FencedSession(cql, fence);
    session.execute(insert("a", 1));
    session.executeAsync(insert("a", 2)).toCompletableFuture().join();
    now.addAndGet(Duration.ofSeconds(25).toNanos()); // frozen, thawed; the clock has not ticked
    CompletionException async =
        assertThrows(
            CompletionException.class,
            () -> session.executeAsync(insert("a", 3)).toCompletableFuture().join());
    assertTrue(async.getCause() instanceof IllegalStateException, async.toString());
    assertThrows(IllegalStateException.class, () -> session.execute(insert("a", 4)));
    assertEquals(2, rows("a"), "the writes after the pause never reached Cassandra");
    assertEquals(List.of(Duration.ofSeconds(25).toNanos()), fencedAfter, "fenced once");
  }

  @Test
  void shouldPassStatementsThroughUpToTheLimit() {
    FencedSession session = new FencedSession(cql, fence);
    for (long seq = 1; seq <= 5; seq++) {
      now.addAndGet(Duration.ofSeconds(2).toNanos());
      fence.tick();
      session.executeAsync(insert("b", seq)).toCompletableFuture().join();
    }
    now.addAndGet(Duration.ofSeconds(10).toNanos()); // exactly the limit: not past it
    session.execute(insert("b", 6));
    assertEquals(6, rows("b"));
    assertEquals(List.of(), fencedAfter);
  }
}
