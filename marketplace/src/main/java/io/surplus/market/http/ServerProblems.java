package io.surplus.market.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * The answer to a request the HTTP server refuses before any route sees it (a broken request line,
 * a URI or headers past the parser's limits, a method or transfer encoding it does not implement, a
 * declared body past {@code max-content-length}): a problem document like every other error, not
 * the server's text/plain. Named by {@code pekko.http.server.parsing.error-handler} in {@code
 * application.conf}; the server makes one per connection with the no-argument constructor.
 */
public final class ServerProblems extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    log.debug("refused a request with {}: {}", status.intValue(), info.summary());
    return Api.problem(of(status.intValue(), status.reason(), info.summary()));
  }

  /** The problem of a status the server itself answers; {@code type} is stable per status. */
  static Problem of(int status, String reason, String detail) {
    String slug =
        switch (status) {
          case 400 -> "bad-request";
          case 408 -> "request-timeout";
          case 413 -> "body-too-large";
          case 414 -> "uri-too-long";
          case 417 -> "expectation-failed";
          case 431 -> "headers-too-large";
          case 501 -> "not-implemented";
          case 505 -> "http-version-not-supported";
          default -> "http-" + status;
        };
    return Problem.of(status, slug, reason, detail, null);
  }
}
