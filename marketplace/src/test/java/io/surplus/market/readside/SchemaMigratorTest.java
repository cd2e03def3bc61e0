package io.surplus.market.readside;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.surplus.market.cassandra.TestCassandra;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The migrator against the real node, each test in a keyspace of its own. */
class SchemaMigratorTest {

  static CqlSession session;

  @BeforeAll
  static void connect() {
    TestCassandra.node();
    // the driver reads datastax-java-driver from application.conf: the test node, datacenter1
    session = CqlSession.builder().build();
  }

  /** Keyspaces made by this class alone; dropped at the end so runs do not pile them up. */
  static final List<String> created = new ArrayList<>();

  @AfterAll
  static void close() {
    for (String keyspace : created) {
      session.execute(
          SimpleStatement.newInstance("DROP KEYSPACE IF EXISTS " + keyspace)
              .setTimeout(SchemaMigrator.DDL_TIMEOUT));
    }
    session.close();
  }

  static ReadSideSettings freshKeyspace() {
    ReadSideSettings settings =
        ReadSideSettings.defaults().withKeyspace("rs_schema_" + System.nanoTime());
    created.add(settings.keyspace());
    return settings;
  }

  @Test
  void shouldApplyEachVersionOnceAndOnlyTheNewOnesLater() {
    ReadSideSettings settings = freshKeyspace();
    SchemaMigrator migrator = new SchemaMigrator(session, settings);
    List<Migration> shipped = Migration.fromClasspath(getClass().getClassLoader());
    List<Integer> versions = shipped.stream().map(Migration::version).toList();
    assertEquals(1, versions.get(0));
    int next = versions.get(versions.size() - 1) + 1;

    assertEquals(versions, migrator.migrate(shipped));
    assertEquals(
        Set.of(
            "schema_version",
            "leases_by_account",
            "lease_by_id",
            "trades_by_market_day",
            "candles",
            "epochs",
            "webhook_deliveries",
            "api_keys",
            "cursor_secret",
            "window_owner",
            "provider_windows",
            "provider_revocations",
            "provider_leases"),
        tables(settings.keyspace()));
    assertTrue(columns(settings.keyspace(), "lease_by_id").contains("preempt_at"));
    assertEquals(List.of(), migrator.migrate(shipped));

    // ALTER ... ADD fails when run twice, so a second application would throw here
    List<Migration> withNext = new ArrayList<>(shipped);
    String name = "V" + next + "__candle_note.cql";
    withNext.add(
        Migration.of(
            name,
            "-- a note per candle; the ';' in this comment is not a statement end\n"
                + "ALTER TABLE ${keyspace}.candles ADD note text;\n"
                + "ALTER TABLE ${keyspace}.epochs ADD note text;\n"));
    assertEquals(List.of(next), migrator.migrate(withNext));
    assertEquals(List.of(), migrator.migrate(withNext));
    assertEquals(List.of(), new SchemaMigrator(session, settings).migrate(withNext));
    TreeMap<Integer, String> expected = new TreeMap<>();
    shipped.forEach(m -> expected.put(m.version(), m.name()));
    expected.put(next, name);
    assertEquals(expected, migrator.applied());
    assertTrue(columns(settings.keyspace(), "epochs").contains("note"));
  }

  @Test
  void shouldRefuseAnAppliedVersionWhoseFileWasEdited() {
    ReadSideSettings settings = freshKeyspace();
    SchemaMigrator migrator = new SchemaMigrator(session, settings);
    Migration v1 =
        Migration.of("V1__t.cql", "CREATE TABLE IF NOT EXISTS ${keyspace}.t (k int PRIMARY KEY);");
    assertEquals(List.of(1), migrator.migrate(List.of(v1)));
    Migration edited =
        Migration.of(
            "V1__t.cql", "CREATE TABLE IF NOT EXISTS ${keyspace}.t (k int PRIMARY KEY, v int);");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> migrator.migrate(List.of(edited)));
    assertTrue(e.getMessage().contains("schema version 1"), e.getMessage());
  }

  @Test
  void shouldCreateTheKeyspaceWithTheConfiguredReplication() {
    ReadSideSettings settings = freshKeyspace();
    new SchemaMigrator(session, settings).migrate(List.of());
    Row ks =
        session
            .execute(
                "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
                settings.keyspace())
            .one();
    Map<String, String> replication = ks.getMap("replication", String.class, String.class);
    assertEquals("1", replication.get("replication_factor"));
    assertTrue(replication.get("class").endsWith("SimpleStrategy"), replication.toString());
  }

  @Test
  void shouldSplitStatementsOnSemicolonsAfterDroppingCommentsAndNameTheKeyspace() {
    Migration m =
        Migration.of(
            "V7__x.cql",
            "-- one; two\nCREATE TABLE ${keyspace}.a (k int PRIMARY KEY);\n\n  -- three;\n"
                + "CREATE TABLE ${keyspace}.b (k int PRIMARY KEY);\n");
    assertEquals(7, m.version());
    assertEquals(
        List.of("CREATE TABLE ks.a (k int PRIMARY KEY)", "CREATE TABLE ks.b (k int PRIMARY KEY)"),
        m.statements("ks"));
    assertThrows(IllegalArgumentException.class, () -> Migration.of("v1_bad.cql", ""));
    assertThrows(
        IllegalArgumentException.class,
        () -> ReadSideSettings.defaults().withKeyspace("x; DROP KEYSPACE y"));
  }

  static Set<String> tables(String keyspace) {
    return session
        .execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", keyspace)
        .all()
        .stream()
        .map(r -> r.getString("table_name"))
        .collect(Collectors.toSet());
  }

  static Set<String> columns(String keyspace, String table) {
    return session
        .execute(
            "SELECT column_name FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
            keyspace,
            table)
        .all()
        .stream()
        .map(r -> r.getString("column_name"))
        .collect(Collectors.toSet());
  }
}
