package io.surplus.market.app;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.surplus.market.readside.ReadSideSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.persistence.cassandra.KeyspaceAndTableStatements;
import org.apache.pekko.persistence.cassandra.PluginSettings;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * Creates the journal's and the snapshot store's keyspaces and tables (the plugin's own statements,
 * with the configured replication) before any entity starts, one statement at a time, each waiting
 * until every Cassandra node has the schema. Left to the plugin, the first entities to recover on a
 * fresh three-node ring raced its creation and found tables missing; here a failed statement is
 * retried with the start-up step, and the plugin's own creation then finds everything in place.
 */
final class JournalSchema {

  static final String PLUGIN = "pekko.persistence.cassandra";
  static final Duration DDL_TIMEOUT = Duration.ofSeconds(60);

  private JournalSchema() {}

  /** The statements to run, in order; none when the configuration leaves creation off. */
  static List<String> statements(ActorSystem<?> system) {
    PluginSettings settings =
        PluginSettings.apply(system.classicSystem(), system.settings().config().getConfig(PLUGIN));
    KeyspaceAndTableStatements ddl = new KeyspaceAndTableStatements(system, PLUGIN, settings);
    List<String> out = new ArrayList<>();
    if (settings.journalSettings().keyspaceAutoCreate()) {
      out.add(ddl.createJournalKeyspaceStatement());
    }
    if (settings.journalSettings().tablesAutoCreate()) {
      out.addAll(ddl.getCreateJournalTablesStatements());
    }
    if (settings.snapshotSettings().keyspaceAutoCreate()) {
      out.add(ddl.createSnapshotKeyspaceStatement());
    }
    if (settings.snapshotSettings().tablesAutoCreate()) {
      out.addAll(ddl.getCreateSnapshotTablesStatements());
    }
    return out;
  }

  static CompletionStage<Void> create(ActorSystem<?> system) {
    ReadSideSettings rs = ReadSideSettings.from(system.settings().config());
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    return CassandraSessionRegistry.get(system)
        .sessionFor(rs.sessionConfigPath())
        .underlying()
        .thenAcceptAsync(session -> run(session, statements(system)), blocking);
  }

  private static void run(CqlSession session, List<String> statements) {
    for (String cql : statements) {
      session.execute(SimpleStatement.newInstance(cql).setTimeout(DDL_TIMEOUT));
    }
  }
}
