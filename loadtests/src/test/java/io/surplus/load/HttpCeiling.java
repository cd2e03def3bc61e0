package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.Simulation;
import java.time.Duration;
import java.util.Map;

/**
 * The HTTP ceiling: {@code GET /health/alive}, a route that answers from memory on the same Pekko
 * HTTP server, as fast as {@code surplus.ceilingUsers} (default 64) looping clients can ask for
 * {@code surplus.duration} seconds. A closed model on purpose: it measures the most the server and
 * this machine can answer, the ceiling the other runs are a fraction of.
 */
public class HttpCeiling extends Simulation {

  private final LoadConfig config = LoadConfig.fromSystemProperties(0, 1000);
  private final Throughput answered = new Throughput();

  {
    int users = Integer.getInteger("surplus.ceilingUsers", 64);
    setUp(
            scenario("ceiling")
                .during(Duration.ofSeconds(config.durationSeconds() + 3))
                .on(
                    exec(http("alive").get("/health/alive").check(status().is(200)))
                        .exec(
                            s -> {
                              if (!s.isFailed()) {
                                answered.add(1);
                              }
                              return s;
                            }))
                .injectOpen(atOnceUsers(users)))
        .protocols(Protocol.of(config));
  }

  @Override
  public void after() {
    Results.write(
        config.out(),
        "HttpCeiling",
        Map.of(
            "requestsPerSecondMedian", answered.median(3, 1),
            "requests", answered.total(),
            "durationSeconds", config.durationSeconds()));
  }
}
