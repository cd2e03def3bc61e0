package io.surplus.load;

import static io.gatling.javaapi.http.HttpDsl.http;

import io.gatling.javaapi.http.HttpProtocolBuilder;

/** The HTTP protocol of every simulation: the service only, no warm-up call to outside hosts. */
public final class Protocol {

  /**
   * {@code -Dsurplus.connections=C}: BidSubmission's single bids from C looping clients (an SDK's
   * pool of C keep-alive connections) instead of the open model, whose clients open another
   * connection whenever none is free (Gatling's shared pool has no bound for them).
   */
  public static final String CONNECTIONS = "surplus.connections";

  private Protocol() {}

  public static HttpProtocolBuilder of(LoadConfig config) {
    return http.baseUrl(config.url())
        .wsBaseUrl(config.wsUrl())
        .disableWarmUp()
        // API clients keep connections alive and share them; a new TCP connection per bid would
        // measure the kernel, not the service
        .shareConnections()
        // every read fetches the whole document: a pooled reader that kept its ETags would get
        // 304s, cheaper than what the open model's new readers ask for, and the two would differ
        .disableCaching()
        // subscribers read what the stream pushed once a second; Gatling keeps none unless told
        .wsUnmatchedInboundMessageBufferSize(1024)
        .acceptHeader("application/json")
        .userAgentHeader("surplus-loadtests");
  }
}
