package io.surplus.market.markets;

import java.util.Optional;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.Handler;

/**
 * Runs a projection over the markets' tagged events ({@link Market#EPOCH_TAG}: epochs and
 * revocations), at least once, with its offset in Cassandra, as a one-instance sharded daemon
 * process: exactly one node of the cluster runs it, and another takes over when that node leaves.
 */
public final class EpochProjections {

  private EpochProjections() {}

  public static void run(
      ActorSystem<?> system, String name, Supplier<Handler<EventEnvelope<Market.Event>>> handler) {
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            name,
            1,
            i ->
                ProjectionBehavior.create(
                    CassandraProjection.atLeastOnce(
                        ProjectionId.of(name, Market.EPOCH_TAG),
                        EventSourcedProvider.<Market.Event>eventsByTag(
                            system, CassandraReadJournal.Identifier(), Market.EPOCH_TAG),
                        handler)),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }
}
