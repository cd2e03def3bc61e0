package io.surplus.feed.drive;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The three calls the driver makes to a marketplace, over {@link HttpClient}: post a feed body,
 * read the feed position, post a bid. It turns replies into {@link Reply} values and leaves what to
 * do about them to the caller; connection failures and timeouts come out as {@link IOException}.
 */
final class MarketClient {

  /** What the service answered. */
  sealed interface Reply {}

  /** 200: the service's position after the body, and what it made of the lines. */
  record Accepted(long lastApplied, long applied, long duplicates) implements Reply {}

  /** 422: line {@code line} of the body broke a rule; nothing after it was applied. */
  record Rejected(long lastApplied, long line, String field, String detail) implements Reply {}

  /** 409: the body's first new sequence number was not {@code expected}. */
  record Gap(long lastApplied, long expected, String detail) implements Reply {}

  /** 503: the service cannot persist now; try again after {@code retryAfter}. */
  record Unavailable(Duration retryAfter, String detail) implements Reply {}

  /** 201 or 200 for a bid. */
  record Created(int status) implements Reply {}

  /** Any other answer, or one the contract does not describe. */
  record Failed(int status, String detail) implements Reply {

    /** Whether asking again, unchanged, may succeed: the service, not the request, was at fault. */
    boolean retryable() {
      return status >= 500 || status == 401 || status == 403 || status == 408 || status == 429;
    }
  }

  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  private static final int DETAIL_CHARS = 300;

  private final HttpClient http;
  private final URI base;
  private final Duration timeout;

  MarketClient(URI baseUrl, Duration connectTimeout, Duration requestTimeout) {
    String s = baseUrl.toString();
    this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    this.timeout = requestTimeout;
    this.http =
        HttpClient.newBuilder()
            // The service speaks HTTP/1.1; asking for h2c upgrades gains nothing.
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(connectTimeout)
            .build();
  }

  /** {@code POST /v1/feed} with an NDJSON body. */
  Reply postFeed(String providerKey, String ndjson) throws IOException, InterruptedException {
    HttpRequest req =
        request("/v1/feed", providerKey)
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(ndjson, StandardCharsets.UTF_8))
            .build();
    return feedReply(http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
  }

  /** {@code GET /v1/feed/position}: an {@link Accepted} with only {@code lastApplied} set. */
  Reply position(String providerKey) throws IOException, InterruptedException {
    HttpRequest req = request("/v1/feed/position", providerKey).GET().build();
    return feedReply(http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
  }

  /** {@code POST /v1/bids}. */
  Reply postBid(String bidderKey, String idempotencyKey, String json)
      throws IOException, InterruptedException {
    HttpRequest req =
        request("/v1/bids", bidderKey)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", idempotencyKey)
            .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8))
            .build();
    HttpResponse<String> res =
        http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    int status = res.statusCode();
    if (status == 200 || status == 201) {
      return new Created(status);
    }
    if (status == 503) {
      return new Unavailable(retryAfter(res), detail(res.body()));
    }
    return new Failed(status, detail(res.body()));
  }

  private HttpRequest.Builder request(String path, String key) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .timeout(timeout)
        .header("Authorization", "Bearer " + key)
        .header("Accept", "application/json, application/problem+json");
  }

  private static Reply feedReply(HttpResponse<String> res) {
    int status = res.statusCode();
    if (status == 503) {
      return new Unavailable(retryAfter(res), detail(res.body()));
    }
    JsonNode body = json(res.body());
    if (status == 200 && isLong(body, "lastApplied")) {
      return new Accepted(
          body.get("lastApplied").asLong(), longOr(body, "applied"), longOr(body, "duplicates"));
    }
    if (status == 422 && isLong(body, "lastApplied") && isLong(body, "line")) {
      JsonNode field = body.get("field");
      return new Rejected(
          body.get("lastApplied").asLong(),
          body.get("line").asLong(),
          field == null || field.isNull() ? null : field.asText(),
          detail(body));
    }
    if (status == 409 && isLong(body, "lastApplied")) {
      long last = body.get("lastApplied").asLong();
      long expected = isLong(body, "expected") ? body.get("expected").asLong() : last + 1;
      return new Gap(last, expected, detail(body));
    }
    return new Failed(status, detail(res.body()));
  }

  private static JsonNode json(String text) {
    try {
      return text == null || text.isEmpty() ? null : MAPPER.readTree(text);
    } catch (JacksonException e) {
      return null;
    }
  }

  private static boolean isLong(JsonNode body, String field) {
    return body != null && body.has(field) && body.get(field).canConvertToLong();
  }

  private static long longOr(JsonNode body, String field) {
    return isLong(body, field) ? body.get(field).asLong() : 0;
  }

  private static String detail(JsonNode problem) {
    JsonNode d = problem.get("detail");
    return d == null ? detail(problem.toString()) : detail(d.asText());
  }

  private static String detail(String text) {
    if (text == null) {
      return "";
    }
    return text.length() > DETAIL_CHARS ? text.substring(0, DETAIL_CHARS) + "..." : text;
  }

  /** Retry-After in seconds; an HTTP-date or garbage counts as none. */
  private static Duration retryAfter(HttpResponse<String> res) {
    return res.headers()
        .firstValue("Retry-After")
        .map(
            v -> {
              try {
                return Duration.ofSeconds(Math.max(0, Long.parseLong(v.trim())));
              } catch (NumberFormatException e) {
                return Duration.ZERO;
              }
            })
        .orElse(Duration.ZERO);
  }
}
