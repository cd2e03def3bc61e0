package io.surplus.market.markets;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.Projection;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionContext;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.cassandra.javadsl.CassandraProjection;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.Handler;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.stream.javadsl.FlowWithContext;

/**
 * Runs a projection over the markets' tagged events ({@link Market#EPOCH_TAG}: epochs and
 * revocations), at least once, with its offset in Cassandra, as a one-instance sharded daemon
 * process: exactly one node of the cluster runs it, and another takes over when that node leaves.
 */
public final class EpochProjections {

  private EpochProjections() {}

  public static void run(
      ActorSystem<?> system, String name, Supplier<Handler<EventEnvelope<Market.Event>>> handler) {
    daemon(
        system,
        name,
        () ->
            CassandraProjection.atLeastOnce(
                ProjectionId.of(name, Market.EPOCH_TAG), source(system), handler));
  }

  /**
   * The same, with up to {@code parallelism} events in {@code process} at once; the offset still
   * passes each event only once it and every event before it are processed.
   */
  public static void runConcurrently(
      ActorSystem<?> system,
      String name,
      Function<EventEnvelope<Market.Event>, CompletionStage<Done>> process,
      int parallelism) {
    daemon(
        system,
        name,
        () ->
            CassandraProjection.atLeastOnceFlow(
                ProjectionId.of(name, Market.EPOCH_TAG),
                source(system),
                FlowWithContext.<EventEnvelope<Market.Event>, ProjectionContext>create()
                    .mapAsync(parallelism, process::apply)));
  }

  private static SourceProvider<Offset, EventEnvelope<Market.Event>> source(ActorSystem<?> system) {
    return EventSourcedProvider.eventsByTag(
        system, CassandraReadJournal.Identifier(), Market.EPOCH_TAG);
  }

  private static void daemon(
      ActorSystem<?> system, String name, Supplier<Projection<?>> projection) {
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            name,
            1,
            i -> ProjectionBehavior.create(projection.get()),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }
}
