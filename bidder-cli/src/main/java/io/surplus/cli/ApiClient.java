package io.surplus.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The service's HTTP API as the CLI uses it: JSON in, JSON out, the API key as a bearer token.
 * Every failure comes out as a {@link CliError}: an error answer through {@link Problems}, a
 * service that cannot be reached as {@link SurplusCli#UNAVAILABLE} with a sentence saying so.
 */
final class ApiClient {

  static final ObjectMapper MAPPER = new ObjectMapper();

  /** How long to wait for a TCP connection. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  /** How long to wait for an answer (a write waits at most 5 s in the service). */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** An answer in the 2xx range. */
  record Reply(int status, String body, boolean replayed) {
    JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw CliError.unavailable("the service answered something that is not JSON: " + body);
      }
    }
  }

  private final URI base;
  private final String key;
  private final String keySource;
  private final HttpClient http;

  ApiClient(CliConfig config) {
    this.base = config.url();
    this.key = config.key();
    this.keySource = config.keySource();
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT_TIMEOUT)
            .build();
  }

  URI base() {
    return base;
  }

  Reply get(String path) {
    return send("GET", path, null, null);
  }

  Reply post(String path, String json, String idempotencyKey) {
    return send("POST", path, json, idempotencyKey);
  }

  Reply delete(String path) {
    return send("DELETE", path, null, null);
  }

  private Reply send(String method, String path, String json, String idempotencyKey) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(REQUEST_TIMEOUT)
            .header("Accept", "application/json");
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    if (json != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliError.unavailable("interrupted while waiting for " + base);
    }
    if (r.statusCode() / 100 != 2) {
      throw Problems.error(
          r.statusCode(), r.body(), r.headers().firstValue("Retry-After").orElse(null), keySource);
    }
    boolean replayed =
        r.headers().firstValue("Idempotent-Replayed").map("true"::equalsIgnoreCase).orElse(false);
    return new Reply(r.statusCode(), r.body(), replayed);
  }

  /**
   * A short-lived stream token for the key's account ({@code POST /v1/stream/tokens}), or null with
   * no key, or with a key whose role gets none (an admin's): then the stream is the public one. The
   * stream refuses API keys, so the key itself never goes there.
   */
  String streamToken() {
    if (key == null) {
      return null;
    }
    try {
      return post("/v1/stream/tokens", null, null).json().get("token").asText();
    } catch (CliError e) {
      if (e.status() == 403) {
        return null;
      }
      throw e;
    }
  }

  /**
   * Opens a WebSocket on {@code path}; a refused handshake is a {@link CliError} like any other.
   */
  WebSocket websocket(String path, WebSocket.Listener listener) {
    URI uri = URI.create(base.toString().replaceFirst("^http", "ws") + path);
    WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT);
    try {
      return b.buildAsync(uri, listener).get(REQUEST_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      if (c instanceof WebSocketHandshakeException h) {
        HttpResponse<?> r = h.getResponse();
        Object body = r.body();
        throw Problems.error(
            r.statusCode(),
            body instanceof String s ? s : null,
            r.headers().firstValue("Retry-After").orElse(null),
            keySource);
      }
      throw unreachable(c instanceof IOException io ? io : new IOException(c.getMessage(), c));
    } catch (TimeoutException e) {
      throw CliError.unavailable(
          "the service at " + base + " did not open the stream within " + REQUEST_TIMEOUT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliError.unavailable("interrupted while connecting to " + base);
    }
  }

  private CliError unreachable(IOException e) {
    if (e instanceof HttpConnectTimeoutException) {
      return CliError.unavailable(
          "the service at "
              + base
              + " did not accept a connection within "
              + CONNECT_TIMEOUT.toSeconds()
              + " s");
    }
    if (e instanceof HttpTimeoutException) {
      return CliError.noAnswer(
          "the service at "
              + base
              + " did not answer within "
              + REQUEST_TIMEOUT.toSeconds()
              + " s");
    }
    if (e instanceof ConnectException) {
      return CliError.unavailable(
          "the service is not running at "
              + base
              + " (connection refused); start it with ./surplus up, or point --url or "
              + CliConfig.ENV_URL
              + " at it");
    }
    return CliError.noAnswer(
        "cannot talk to the service at "
            + base
            + ": "
            + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
  }

  /** {@code path} with the query parameters that are not null, encoded. */
  static String path(String path, Map<String, ?> query) {
    StringBuilder s = new StringBuilder(path);
    char sep = '?';
    for (Map.Entry<String, ?> e : query.entrySet()) {
      if (e.getValue() != null) {
        s.append(sep)
            .append(e.getKey())
            .append('=')
            .append(URLEncoder.encode(e.getValue().toString(), StandardCharsets.UTF_8));
        sep = '&';
      }
    }
    return s.toString();
  }

  /** Query parameters in order; null values are left out by {@link #path}. */
  static Map<String, Object> query(Object... namesAndValues) {
    Map<String, Object> q = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      q.put((String) namesAndValues[i], namesAndValues[i + 1]);
    }
    return q;
  }

  /** One path segment (a GPU model, a bid or lease id), percent-encoded. */
  static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
