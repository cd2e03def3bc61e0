package io.surplus.market.http;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Answers of Pekko's Java asks as plain futures. Pekko's Java API converts its Scala futures with
 * Scala's converter, whose futures run every dependent stage, even a plain {@code thenApply} or
 * {@code thenCompose}, asynchronously on the common pool: a thread hop and a wake-up per stage. A
 * bid's placement chains three asks, so each bid crossed to the common pool and back three times.
 * The future given here is completed where the answer arrives (the thread that replied, as Pekko's
 * own Scala callbacks run), and its stages run there too, unless they ask otherwise.
 */
public final class Asks {

  private Asks() {}

  /** {@code answer} as a plain future, its dependent stages run on the thread that completes it. */
  public static <T> CompletableFuture<T> direct(CompletionStage<T> answer) {
    CompletableFuture<T> plain = new CompletableFuture<>();
    // the converter's futures leave the Async variants with an executor as the JDK has them: a
    // caller-runs executor completes ours on the completing thread
    answer.whenCompleteAsync(
        (value, failure) -> {
          if (failure != null) {
            plain.completeExceptionally(failure);
          } else {
            plain.complete(value);
          }
        },
        Runnable::run);
    return plain;
  }
}
