package io.surplus.market.app;

import com.datastax.oss.driver.api.core.CqlSession;
import com.typesafe.config.Config;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.connectors.cassandra.CqlSessionProvider;
import org.apache.pekko.stream.connectors.cassandra.DefaultSessionProvider;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;

/**
 * The connector's default session (the driver's configuration, contact points and all), wrapped in
 * the node's {@link FencedSession}. Named by {@code pekko.persistence.cassandra.session-provider},
 * so the journal, the snapshot store and their queries share it.
 */
public final class FencedSessionProvider implements CqlSessionProvider {

  private final DefaultSessionProvider driver;
  private final PauseFence fence;

  public FencedSessionProvider(ActorSystem system, Config config) {
    this.driver = new DefaultSessionProvider(system, config);
    this.fence = PauseFence.get(Adapter.toTyped(system));
  }

  @Override
  public Future<CqlSession> connect(ExecutionContext ec) {
    return driver.connect(ec).map(session -> (CqlSession) new FencedSession(session, fence), ec);
  }
}
