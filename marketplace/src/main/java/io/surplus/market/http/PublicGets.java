package io.surplus.market.http;

import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Public GET endpoints of the API answered by a server other than Pekko HTTP's (the market-data
 * port's, {@code io.surplus.market.stream.MarketDataServer}): the same handlers, the same path
 * templates and parameter rules ({@link Templates#PARAMETER}), the same problem documents and
 * timers, so a read answers the same bytes, status and {@code ETag} on either port. What it skips
 * is what a public GET never needs: a caller, a body, and the routing DSL's per-request directives.
 */
public final class PublicGets {

  /** Times an answer as the API times its own (method, template, status). */
  @FunctionalInterface
  interface Recorder {
    void record(long startedNanos, String method, String template, HttpResponse r);
  }

  /** An answer ready to write: status, headers, content type (null: none) and body. */
  public record Answer(
      int status, List<Map.Entry<String, String>> headers, String contentType, ByteBuffer body) {}

  private record Entry(Api.Endpoint endpoint, String[] segments) {

    /** The parameters by name when {@code parts} (decoded) match this template, else null. */
    Map<String, String> match(String[] parts) {
      if (parts.length != segments.length) {
        return null;
      }
      Map<String, String> params = null;
      for (int i = 0; i < parts.length; i++) {
        String s = segments[i];
        if (s.startsWith("{")) {
          if (!Templates.PARAMETER.matcher(parts[i]).matches()) {
            return null;
          }
          if (params == null) {
            params = new HashMap<>(4);
          }
          params.put(s.substring(1, s.length() - 1), parts[i]);
        } else if (!s.equals(parts[i])) {
          return null;
        }
      }
      return params == null ? Map.of() : params;
    }
  }

  private final List<Entry> entries;
  private final Recorder recorder;

  PublicGets(List<Api.Endpoint> endpoints, Recorder recorder) {
    this.entries = new ArrayList<>(endpoints.size());
    for (Api.Endpoint e : endpoints) {
      entries.add(new Entry(e, Templates.segments(e.template())));
    }
    this.recorder = recorder;
  }

  /** The templates served, in the order they are tried. */
  public List<String> templates() {
    return entries.stream().map(e -> e.endpoint().template()).toList();
  }

  /**
   * The answer to a request of {@code method} for {@code uri} (path and query, as sent) with {@code
   * headers}: for a GET, the first endpoint whose template matches the path answers; none matching
   * is a {@code 404}, a URI that cannot be read a {@code 400}; any other method is a {@code 405}
   * with {@code Allow: GET}. It completes where the handler's answer does (at once for a view's
   * bytes); it never fails.
   */
  public CompletionStage<Answer> answer(
      String method, String uri, List<Map.Entry<String, String>> headers) {
    if (!method.equals("GET")) {
      return CompletableFuture.completedFuture(
          answer(
              Api.problem(
                      Problem.of(
                          405,
                          "method-not-allowed",
                          "Method not allowed",
                          "this port serves market data by GET, not " + method,
                          null))
                  .addHeader(RawHeader.create("Allow", "GET"))));
    }
    long started = System.nanoTime();
    HttpRequest request;
    String[] parts;
    try {
      request = HttpRequest.GET(uri);
      parts = parts(request.getUri().path());
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(
          answer(
              Api.problem(
                  Problem.of(
                      400,
                      "bad-request",
                      "The request could not be read",
                      "the request's URI could not be read",
                      null))));
    }
    for (Map.Entry<String, String> h : headers) {
      request = request.addHeader(RawHeader.create(h.getKey(), h.getValue()));
    }
    for (Entry e : entries) {
      Map<String, String> params = e.match(parts);
      if (params != null) {
        Api.Endpoint endpoint = e.endpoint();
        return Api.Endpoint.handled(endpoint.handler(), new Api.Call(request, params, null, ""))
            .handle(
                (r, failure) -> {
                  HttpResponse response = failure == null ? r : Api.toResponse(failure);
                  recorder.record(started, "GET", endpoint.template(), response);
                  try {
                    return answer(response);
                  } catch (RuntimeException bug) {
                    return answer(Api.toResponse(bug)); // logged there, answered as a 500
                  }
                });
      }
    }
    return CompletableFuture.completedFuture(
        answer(
            Api.problem(
                Problem.notFound(
                    "'"
                        + request.getUri().path()
                        + "': this port serves the stream and "
                        + templates()))));
  }

  /** The path's segments, each decoded ({@code %xx}; a {@code +} stays itself). */
  private static String[] parts(String path) {
    if (path.equals("/")) {
      return new String[0];
    }
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("not an absolute path");
    }
    String[] raw = path.substring(1).split("/", -1); // a trailing slash is a segment of its own
    for (int i = 0; i < raw.length; i++) {
      if (raw[i].indexOf('%') >= 0) {
        raw[i] = URLDecoder.decode(raw[i].replace("+", "%2B"), StandardCharsets.UTF_8);
      }
    }
    return raw;
  }

  /** Pekko's response as an answer to write; a body not held in memory is a bug of its handler. */
  private static Answer answer(HttpResponse r) {
    List<Map.Entry<String, String>> headers = new ArrayList<>(2);
    for (HttpHeader h : r.getHeaders()) {
      headers.add(Map.entry(h.name(), h.value()));
    }
    HttpEntity e = r.entity();
    if (!(e instanceof HttpEntity.Strict strict)) {
      throw new IllegalStateException("a public GET answered a streamed body: " + e);
    }
    String contentType = e.isKnownEmpty() ? null : e.getContentType().toString();
    return new Answer(r.status().intValue(), headers, contentType, strict.getData().asByteBuffer());
  }
}
