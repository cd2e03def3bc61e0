package io.surplus.load;

import io.gatling.javaapi.core.Simulation;

/**
 * A simulation whose load phase is timed: Gatling calls {@link #before()} once the set-up
 * (accounts, windows, a pre-filled book) is done and the scenarios are about to start, and {@link
 * Results} writes that moment and the end beside the figures, so {@code LoadReport} takes the CPU
 * shares of the service, its Cassandra node and the generator over the load alone.
 */
public abstract class MeasuredSimulation extends Simulation {

  @Override
  public void before() {
    Results.loadStarts();
  }
}
