package io.surplus.market.http;

import com.typesafe.config.ConfigFactory;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.server.RouteResult;
import org.apache.pekko.http.javadsl.testkit.RouteTest;
import org.apache.pekko.http.javadsl.testkit.TestRouteResult;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.Assertions;
import scala.concurrent.Future;

/**
 * Pekko HTTP's route test kit for JUnit 5: {@code testRoute(route).run(request)} runs a request
 * through a route in this JVM, with no server, socket or Cassandra, and the result's assertions
 * fail as JUnit 5's do. The kit's own base class is JUnit 4's; this one shares one local actor
 * system among every route test of the run.
 */
public abstract class RouteTests extends RouteTest {

  private static ActorSystem system;

  /** The run's actor system for route tests: local, no cluster, no persistence started. */
  public static synchronized ActorSystem shared() {
    if (system == null) {
      system =
          ActorSystem.create(
              "route-tests",
              ConfigFactory.parseString("pekko.actor.provider = local")
                  .withFallback(ConfigFactory.load()));
      ActorSystem s = system;
      Runtime.getRuntime().addShutdownHook(new Thread(s::terminate, "stop-route-tests"));
    }
    return system;
  }

  @Override
  public ActorSystem system() {
    return shared();
  }

  @Override
  public Materializer materializer() {
    return Materializer.matFromSystem(system());
  }

  @Override
  public TestRouteResult createTestRouteResultAsync(
      HttpRequest request, Future<RouteResult> result) {
    return new TestRouteResult(result, awaitDuration(), system().dispatcher(), materializer()) {
      @Override
      public void fail(String message) {
        Assertions.fail(message);
      }

      @Override
      public void assertEquals(Object expected, Object actual, String message) {
        Assertions.assertEquals(expected, actual, message);
      }

      @Override
      public void assertEquals(int expected, int actual, String message) {
        Assertions.assertEquals(expected, actual, message);
      }

      @Override
      public void assertTrue(boolean predicate, String message) {
        Assertions.assertTrue(predicate, message);
      }
    };
  }
}
