package io.surplus.load;

import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.pace;
import static io.gatling.javaapi.core.CoreDsl.percent;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;
import static io.gatling.javaapi.http.HttpDsl.ws;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.PopulationBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Market readers: anonymous book, market list, candle and trade reads at a constant arrival rate
 * (30/10/30/30), and WebSocket subscribers on {@code /v1/stream} that stay for the run and measure
 * each epoch's lag from its clearing ({@link EpochLag}).
 */
public final class ReadScenarios {

  private final List<String> markets;

  public ReadScenarios(List<String> markets) {
    this.markets = markets;
  }

  /**
   * {@code rate} reads per second for {@code seconds} after the ramp: from {@code readers} looping
   * keep-alive clients, each paced so that together they offer the rate (a client whose answer
   * comes late sends its next at once, so a slow service shows as a shortfall in rate); or, with
   * {@code readers} 0, in the open model (a new virtual user per arrival, on the shared
   * connections, which opens another when none is free).
   */
  public PopulationBuilder reads(double rate, int seconds, int startAfterSeconds, int readers) {
    if (readers <= 0) {
      return scenario("readers")
          .exec(read())
          .injectOpen(BidScenarios.steps(rate, seconds, startAfterSeconds));
    }
    Duration pace = Duration.ofNanos(Math.round(readers * 1e9 / rate));
    List<OpenInjectionStep> steps = new ArrayList<>();
    if (startAfterSeconds > 0) {
      steps.add(nothingFor(Duration.ofSeconds(startAfterSeconds)));
    }
    steps.add(rampUsers(readers).during(Duration.ofSeconds(BidScenarios.RAMP_SECONDS)));
    return scenario("readers")
        .during(Duration.ofSeconds(seconds + BidScenarios.RAMP_SECONDS))
        .on(pace(pace).exec(read()))
        .injectOpen(steps.toArray(OpenInjectionStep[]::new));
  }

  /** One read: 30% a market's book, 10% the market list, 30% its candles, 30% its trades. */
  private ChainBuilder read() {
    return exec(s ->
            s.set("market", markets.get(ThreadLocalRandom.current().nextInt(markets.size()))))
        .randomSwitch()
        .on(
            percent(30.0)
                .then(exec(http("book").get("/v1/markets/#{market}/book").check(status().is(200)))),
            percent(10.0).then(exec(http("markets").get("/v1/markets").check(status().is(200)))),
            percent(30.0)
                .then(
                    exec(
                        http("candles")
                            .get("/v1/markets/#{market}/candles?interval=1m")
                            .check(status().is(200)))),
            percent(30.0)
                .then(
                    exec(
                        http("trades")
                            .get("/v1/markets/#{market}/trades")
                            .check(status().is(200)))));
  }

  /** How long the subscribers take to arrive, all of them: one after another, evenly. */
  public static final int SUBSCRIBERS_RAMP_SECONDS = 10;

  /**
   * {@code count} subscribers arriving over {@link #SUBSCRIBERS_RAMP_SECONDS}, each reading its
   * stream once a second for {@code seconds} after it connected, then closing.
   */
  public PopulationBuilder subscribers(int count, int seconds, EpochLag lag) {
    return subscribers(count, seconds, lag, () -> {});
  }

  /**
   * As above, and {@code connected} is run as each subscriber's stream has opened: a simulation
   * counts them to know when all are there.
   */
  public PopulationBuilder subscribers(int count, int seconds, EpochLag lag, Runnable connected) {
    return scenario("subscribers")
        .exec(s -> s.set("epochs", EpochLag.newSubscriberState()))
        .exec(ws("stream").connect("/v1/stream"))
        .exec(
            s -> {
              connected.run();
              return s;
            })
        .during(Duration.ofSeconds(seconds))
        .on(
            exec(s -> s)
                .pause(Duration.ofSeconds(1))
                .exec(
                    ws.processUnmatchedMessages(
                        (messages, s) -> {
                          Map<String, Long> epochs = s.get("epochs");
                          lag.take(messages, epochs);
                          return s;
                        })))
        .exec(ws("stream").close())
        .injectOpen(rampUsers(count).during(Duration.ofSeconds(SUBSCRIBERS_RAMP_SECONDS)));
  }
}
