package io.surplus.market.http;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An RFC 9457 problem document: a stable {@code type} per kind of error, the HTTP status, a
 * sentence for people, and where the problem lies ({@code field}, the JSON field name; {@code
 * index}, the item of a batch).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
    String type, String title, int status, String detail, String field, Integer index) {

  public static final String BASE = "https://surplus.dev/problems/";

  public Problem withIndex(int i) {
    return new Problem(type, title, status, detail, field, i);
  }

  public static Problem of(int status, String slug, String title, String detail, String field) {
    return new Problem(BASE + slug, title, status, detail, field, null);
  }

  public static Problem invalid(String field, String detail) {
    return of(422, "invalid-field", "A field breaks a rule", detail, field);
  }

  public static Problem missing(String field) {
    return of(422, "missing-field", "A required field is missing", field + " is required", field);
  }

  public static Problem malformed(String detail) {
    return of(400, "malformed-json", "The body is not valid JSON", detail, null);
  }

  public static Problem unknownField(String field) {
    return of(
        400,
        "unknown-field",
        "The body has a field this API does not know",
        field + " is not a field of this request",
        field);
  }

  public static Problem wrongType(String field, String detail) {
    return of(400, "wrong-type", "A field has the wrong JSON type", detail, field);
  }

  /** An Idempotency-Key used before with another body. */
  public static Problem keyReused() {
    return of(
        422,
        "idempotency-key-reused",
        "Idempotency-Key was used for another request",
        "this Idempotency-Key was used with a different body; use a new key",
        "Idempotency-Key");
  }

  public static Problem notFound(String what) {
    return of(404, "not-found", "Not found", what, null);
  }

  public static Problem unauthorized(String detail) {
    return of(401, "unauthorized", "A valid API key is required", detail, null);
  }

  public static Problem forbidden(String detail) {
    return of(403, "forbidden", "This key's role may not do that", detail, null);
  }

  /** A body that did not arrive within its time. */
  public static Problem requestTimeout(String detail) {
    return of(408, "request-timeout", "The request body did not arrive in time", detail, null);
  }

  /** A body whose {@code Content-Type} the endpoint does not take. */
  public static Problem unsupportedMediaType(String detail) {
    return of(
        415,
        "unsupported-media-type",
        "The body's Content-Type is not one this endpoint takes",
        detail,
        "Content-Type");
  }

  public static Problem unavailable(String detail) {
    return of(503, "unavailable", "The service cannot persist right now", detail, null);
  }

  /** Thrown by request parsing and validation; turned into the response by the server. */
  public static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Problem problem;

    public Failure(Problem problem) {
      super(problem.detail(), null, false, false);
      this.problem = problem;
    }

    public Problem problem() {
      return problem;
    }
  }

  public Failure failure() {
    return new Failure(this);
  }
}
