package io.surplus.market.app;

import com.typesafe.config.Config;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.cassandra.journal.CassandraJournal;
import scala.collection.immutable.Seq;
import scala.concurrent.Future;
import scala.util.Try;

/**
 * The Cassandra journal, refusing every write once the node's {@link PauseFence} has fenced it: a
 * node that may have been downed while paused never writes an event after the entity's new
 * incarnation elsewhere has (which would fork its journal). A refused write fails the persist, as
 * an unreachable Cassandra would.
 */
public class FencedJournal extends CassandraJournal {

  private final PauseFence fence;

  public FencedJournal(Config config, String configPath) {
    super(config, configPath);
    this.fence = PauseFence.get(Adapter.toTyped(context().system()));
  }

  @Override
  public Future<Seq<Try<scala.runtime.BoxedUnit>>> asyncWriteMessages(Seq<AtomicWrite> messages) {
    if (!fence.mayWrite()) {
      return scala.concurrent.Future$.MODULE$.failed(
          new IllegalStateException(
              "this node was paused past "
                  + fence.limit()
                  + " and may have been downed: it writes no more"));
    }
    return super.asyncWriteMessages(messages);
  }
}
