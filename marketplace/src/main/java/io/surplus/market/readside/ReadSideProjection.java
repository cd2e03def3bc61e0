package io.surplus.market.readside;

import io.surplus.engine.SlotClock;
import io.surplus.market.markets.Market;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.Projection;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.stream.connectors.cassandra.javadsl.CassandraSessionRegistry;

/**
 * The projection that feeds the read side: the events tagged {@link Market#EPOCH_TAG}, at least
 * once, offsets in Cassandra, run by a one-instance {@code ShardedDaemonProcess} so exactly one
 * node of the cluster runs it (and another takes over when that node leaves). One instance keeps
 * each market's epochs in order, which the candles' read-modify-write relies on.
 */
public final class ReadSideProjection {

  private ReadSideProjection() {}

  /** The projection; its id is {@code (projectionName, tag)}. */
  public static Projection<EventEnvelope<Market.Event>> create(
      ActorSystem<?> system, ReadSideSettings settings, SlotClock clock) {
    SourceProvider<Offset, EventEnvelope<Market.Event>> source =
        EventSourcedProvider.eventsByTag(
            system, CassandraReadJournal.Identifier(), Market.EPOCH_TAG);
    return CassandraProjection.atLeastOnce(
        ProjectionId.of(settings.projectionName(), Market.EPOCH_TAG),
        source,
        () ->
            new ReadSideHandler(
                CassandraSessionRegistry.get(system)
                    .sessionFor(settings.sessionConfigPath())
                    .underlying(),
                settings.keyspace(),
                clock));
  }

  /** Starts the projection on the cluster: one instance, wherever sharding places it. */
  public static void init(ActorSystem<?> system, ReadSideSettings settings, SlotClock clock) {
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            settings.projectionName(),
            1,
            i -> ProjectionBehavior.create(create(system, settings, clock)),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }
}
