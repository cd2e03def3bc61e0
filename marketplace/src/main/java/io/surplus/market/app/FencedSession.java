package io.surplus.market.app;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.datastax.oss.driver.api.core.session.Request;
import com.datastax.oss.driver.api.core.type.reflect.GenericType;
import com.datastax.oss.driver.internal.core.session.SessionWrapper;
import java.util.concurrent.CompletableFuture;

/**
 * The journal's and the snapshot store's Cassandra session, refusing every statement once the
 * node's {@link PauseFence} has fenced it: a node that may have been downed while paused never
 * writes an event after the entity's new incarnation elsewhere has (which would fork its journal).
 *
 * <p>The fence is asked here, where the plugin hands a statement to the driver, and not where the
 * journal takes a write: between the two, the plugin serializes the events and binds the statement
 * in futures on its dispatcher, and writes that had passed a check at the journal when the node
 * froze were sent after it thawed, beside the new incarnation's events of the same sequence numbers
 * (ClusterFaultTest, once in a clean-clone CI, 2026-11-28). From here to the socket is the driver's
 * own hand-over to its event loop. A refused statement fails as an unreachable Cassandra would: the
 * persist fails and the entity stops.
 */
final class FencedSession extends SessionWrapper implements CqlSession {

  private final PauseFence fence;

  FencedSession(CqlSession delegate, PauseFence fence) {
    super(delegate);
    this.fence = fence;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <RequestT extends Request, ResultT> ResultT execute(
      RequestT request, GenericType<ResultT> resultType) {
    if (request instanceof Statement<?> && !fence.mayWrite()) {
      IllegalStateException refused =
          new IllegalStateException(
              "this node was paused past "
                  + fence.limit()
                  + " and may have been downed: it writes no more");
      if (Statement.ASYNC.equals(resultType)) {
        return (ResultT) CompletableFuture.failedFuture(refused);
      }
      throw refused;
    }
    return super.execute(request, resultType);
  }
}
