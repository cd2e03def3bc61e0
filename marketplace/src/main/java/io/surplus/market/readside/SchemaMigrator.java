package io.surplus.market.readside;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the read side's keyspace to the newest schema: creates the keyspace with the configured
 * replication, then applies each {@link Migration} not yet recorded in {@value #HISTORY_TABLE}, in
 * version order, and records it. A recorded version is never applied again; a recorded file whose
 * text changed since is refused, so an applied file is never edited in place (add a new version).
 * Blocking: run it off the actor dispatchers.
 *
 * <p>Two nodes starting at once may both apply a version neither has recorded yet, so every
 * statement in a schema file must be idempotent ({@code IF NOT EXISTS}).
 */
public final class SchemaMigrator {

  /** The table of applied versions, in the read side's keyspace. */
  public static final String HISTORY_TABLE = "schema_version";

  /** DDL waits for schema agreement; a cold node can take seconds. */
  static final Duration DDL_TIMEOUT = Duration.ofSeconds(60);

  private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

  private final CqlSession session;
  private final String keyspace;
  private final String replication;

  public SchemaMigrator(CqlSession session, ReadSideSettings settings) {
    this.session = session;
    this.keyspace = settings.keyspace();
    this.replication = settings.replication();
  }

  /**
   * Applies the migrations not yet applied and returns their versions, ascending.
   *
   * @throws IllegalStateException naming the version when an applied file's text has changed
   */
  public List<Integer> migrate(List<Migration> migrations) {
    ddl("CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = " + replication);
    ddl(
        "CREATE TABLE IF NOT EXISTS "
            + keyspace
            + "."
            + HISTORY_TABLE
            + " (version int PRIMARY KEY, name text, checksum text, applied_at timestamp)");
    SortedMap<Integer, String> checksums = new TreeMap<>();
    for (Row row : history()) {
      checksums.put(row.getInt("version"), row.getString("checksum"));
    }
    List<Migration> ordered = new ArrayList<>(migrations);
    ordered.sort(Comparator.comparingInt(Migration::version));
    List<Integer> appliedNow = new ArrayList<>();
    for (Migration m : ordered) {
      String recorded = checksums.get(m.version());
      if (recorded != null) {
        if (!recorded.equals(m.checksum())) {
          throw new IllegalStateException(
              "schema version "
                  + m.version()
                  + " was applied from another text; add a new version instead of editing "
                  + m.name()
                  + ": keyspace="
                  + keyspace);
        }
        continue;
      }
      for (String statement : m.statements(keyspace)) {
        ddl(statement);
      }
      session.execute(
          SimpleStatement.newInstance(
                  "INSERT INTO "
                      + keyspace
                      + "."
                      + HISTORY_TABLE
                      + " (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                  m.version(),
                  m.name(),
                  m.checksum(),
                  Instant.now())
              .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM));
      log.info("Applied schema {} to keyspace {}", m.name(), keyspace);
      appliedNow.add(m.version());
    }
    return appliedNow;
  }

  /** The applied versions and their file names, ascending. */
  public SortedMap<Integer, String> applied() {
    SortedMap<Integer, String> out = new TreeMap<>();
    for (Row row : history()) {
      out.put(row.getInt("version"), row.getString("name"));
    }
    return out;
  }

  private List<Row> history() {
    return session
        .execute(
            SimpleStatement.newInstance(
                    "SELECT version, name, checksum FROM " + keyspace + "." + HISTORY_TABLE)
                .setConsistencyLevel(ConsistencyLevel.LOCAL_QUORUM))
        .all();
  }

  private void ddl(String cql) {
    session.execute(SimpleStatement.newInstance(cql).setTimeout(DDL_TIMEOUT));
  }
}
