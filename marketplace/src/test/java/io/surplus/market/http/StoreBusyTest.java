package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.NoNodeAvailableException;
import java.util.concurrent.CompletionException;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * A store that does not answer (no connection free, every node failed, a timeout) is a 503 with
 * {@code Retry-After}, as a load run found when an epoch of thousands of leases took every
 * connection: never a 500. A bug stays a 500.
 */
class StoreBusyTest {

  @Test
  void shouldAnswer503WhenTheStoreDoesNotAnswer() {
    for (Throwable busy :
        new Throwable[] {
          new CompletionException(new NoNodeAvailableException()),
          new DriverTimeoutException("Query timed out after PT2S")
        }) {
      HttpResponse r = Api.toResponse(busy);
      assertEquals(503, r.status().intValue(), busy.toString());
      assertTrue(r.getHeader("Retry-After").isPresent(), busy.toString());
    }
  }

  @Test
  void shouldStillAnswer500ForABug() {
    assertEquals(500, Api.toResponse(new IllegalStateException("a bug")).status().intValue());
  }
}
