package io.surplus.market.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.mapResponse;
import static org.apache.pekko.http.javadsl.server.Directives.mapRouteResultWith;
import static org.apache.pekko.http.javadsl.server.Directives.method;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.surplus.market.settings.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.TimeoutAccess;
import org.apache.pekko.http.javadsl.server.Complete;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.Rejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.RouteResult;
import org.apache.pekko.http.javadsl.server.RouteResults;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.pattern.AskTimeoutException;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front as a table of endpoints: each is a method, a path template such as {@code
 * /v1/bids/{id}}, the roles that may call it (none: public) and a handler. The table is the single
 * source of the routes, so the OpenAPI document can be checked against it; {@link #route()} turns
 * it into a route of Pekko HTTP's routing DSL (a path matcher and a method directive per endpoint,
 * a rejection handler for the paths and methods that match none). Every failure becomes an {@code
 * application/problem+json} document; a request that cannot be persisted gets {@code 503} with
 * {@code Retry-After}.
 */
public final class Api {

  private static final Logger log = LoggerFactory.getLogger(Api.class);

  public static final ContentType.WithFixedCharset PROBLEM_JSON =
      ContentTypes.create(
          MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8, "json"));

  /** Largest request body of an ordinary endpoint. */
  public static final long DEFAULT_BODY_LIMIT = 64 * 1024;

  /** A body limit meaning: the handler streams the body itself. */
  public static final long STREAMED_BODY = -1;

  /** Seconds a client should wait before retrying after a 503. */
  public static final int RETRY_AFTER_SECONDS = 2;

  /** Longest Idempotency-Key accepted. */
  public static final int MAX_KEY_LENGTH = 255;

  /**
   * What a handler sees of a request: the request, its path parameters by name, the caller (null on
   * a public endpoint) and the body, read whole (empty for a GET or a streamed body).
   */
  public record Call(
      HttpRequest request, Map<String, String> params, Principal principal, String body) {

    public String param(String name) {
      return params.get(name);
    }

    public Optional<String> query(String name) {
      return request.getUri().query().get(name);
    }

    /**
     * The request's {@code Idempotency-Key} header, checked: 1-{@link #MAX_KEY_LENGTH} visible
     * ASCII characters, else a 400 naming the header.
     */
    public String idempotencyKey() {
      String key = header("Idempotency-Key").orElse(null);
      if (key == null || key.isBlank()) {
        throw Problem.of(
                400,
                "missing-idempotency-key",
                "Idempotency-Key is required",
                "every write needs an Idempotency-Key header (1-" + MAX_KEY_LENGTH + " characters)",
                "Idempotency-Key")
            .failure();
      }
      if (key.length() > MAX_KEY_LENGTH || !key.chars().allMatch(c -> c > 32 && c < 127)) {
        throw Problem.of(
                400,
                "invalid-idempotency-key",
                "Idempotency-Key is invalid",
                "Idempotency-Key must be 1-" + MAX_KEY_LENGTH + " visible ASCII characters",
                "Idempotency-Key")
            .failure();
      }
      return key;
    }

    /** The market the path's {@code gpuModel} names, or a 404 listing the markets. */
    public String market(Settings settings) {
      String model = param("gpuModel");
      if (!settings.hasMarket(model)) {
        throw Problem.notFound("no market '" + model + "'; markets: " + settings.markets().keySet())
            .failure();
      }
      return model;
    }

    public Optional<String> header(String name) {
      return request.getHeader(name).map(h -> h.value());
    }
  }

  @FunctionalInterface
  public interface Handler {
    CompletionStage<HttpResponse> handle(Call call);
  }

  /** The media type of an ordinary endpoint's body. */
  public static final String JSON_MEDIA_TYPE = "application/json";

  /**
   * One route: {@code roles} empty means public; {@code bodyLimit} bytes of body at most; a body
   * (when the request has one) must come with one of {@code mediaTypes} as its {@code
   * Content-Type}, else {@code 415}. Once the caller is known and the body read, {@code route}
   * answers: a handler's response, or a route of the DSL's own directives (the board's files).
   * {@code handler} is the handler itself, null on a route of the DSL's ({@link PublicGets} serves
   * the public GETs that have one elsewhere than Pekko HTTP).
   */
  public record Endpoint(
      String method,
      String template,
      Set<Role> roles,
      long bodyLimit,
      Set<String> mediaTypes,
      Function<Call, Route> route,
      Handler handler) {

    public static Endpoint of(String method, String template, Set<Role> roles, Handler handler) {
      return ordinary(
          method, template, roles, call -> completeWithFuture(handled(handler, call)), handler);
    }

    /** An endpoint with the ordinary body limit and media type. */
    private static Endpoint ordinary(
        String method,
        String template,
        Set<Role> roles,
        Function<Call, Route> route,
        Handler handler) {
      return new Endpoint(
          method, template, roles, DEFAULT_BODY_LIMIT, Set.of(JSON_MEDIA_TYPE), route, handler);
    }

    /**
     * The handler's answer; what it throws (a stack overflow too, but not a JVM out of memory or
     * broken) fails the answer, and so becomes a problem document.
     */
    static CompletionStage<HttpResponse> handled(Handler handler, Call call) {
      try {
        return handler.handle(call);
      } catch (VirtualMachineError fatal) {
        if (!(fatal instanceof StackOverflowError)) {
          throw fatal;
        }
        return CompletableFuture.failedFuture(fatal);
      } catch (RuntimeException | Error e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    /** An endpoint answered by a route of the routing DSL, given the call. */
    public static Endpoint routed(
        String method, String template, Set<Role> roles, Function<Call, Route> route) {
      return ordinary(method, template, roles, route, null);
    }

    public Endpoint withBodyLimit(long limit) {
      return new Endpoint(method, template, roles, limit, mediaTypes, route, handler);
    }

    /** The endpoint takes bodies of these media types (lower case, without parameters). */
    public Endpoint withMediaTypes(String... types) {
      return new Endpoint(method, template, roles, bodyLimit, Set.of(types), route, handler);
    }
  }

  /** Turns a bearer key into its account and role; fails with a problem when it cannot. */
  @FunctionalInterface
  public interface Authenticator {
    CompletionStage<Principal> authenticate(String key);
  }

  private final List<Endpoint> endpoints;
  private final Authenticator auth;
  private final Materializer materializer;
  private final MeterRegistry metrics;
  private final Duration bodyTimeout;
  private final Route route;

  public Api(
      ActorSystem<?> system, List<Endpoint> endpoints, Authenticator auth, MeterRegistry metrics) {
    this.endpoints = List.copyOf(endpoints);
    this.auth = auth;
    this.materializer = Materializer.matFromSystem(system);
    this.metrics = metrics;
    this.bodyTimeout = BodyTimeouts.from(system.settings().config()).body();
    this.route = build();
  }

  public List<Endpoint> endpoints() {
    return endpoints;
  }

  /** The endpoint table as one route: what the server binds, and what route tests run. */
  public Route route() {
    return route;
  }

  private Route build() {
    List<Templates.Leaf> leaves = new ArrayList<>(endpoints.size());
    for (Endpoint e : endpoints) {
      leaves.add(endpoint(e));
    }
    // an empty table rejects everything (a 404 from the handler below)
    Route table = Templates.tree(leaves);
    return extractRequest(
        request -> {
          long started = System.nanoTime();
          // the server's own answer when a handler outlives pekko.http.server.request-timeout
          request
              .getHeader(TimeoutAccess.class)
              .ifPresent(t -> t.timeoutAccess().updateHandler(Api::serverTimeout));
          // on the route's result, not on a future of it: a future converted from Scala's runs
          // even a plain thenCompose as an async stage on the common pool, a thread hop (and a
          // wake-up) per request that cost the service a tenth of its CPU
          return mapRouteResultWith(
              r -> afterRefusal(request, r, started),
              () -> handleExceptions(PROBLEMS, () -> handleRejections(UNMATCHED, () -> table)));
        });
  }

  /**
   * One endpoint: its path and method, then the caller and the body, then its route; a failure
   * anywhere in it is a problem document, and its time is recorded under its template.
   */
  private Templates.Leaf endpoint(Endpoint e) {
    HttpMethod method =
        HttpMethods.lookup(e.method())
            .orElseThrow(() -> new IllegalArgumentException("no HTTP method " + e.method()));
    return new Templates.Leaf(
        e.template(),
        params ->
            method(
                method,
                () ->
                    extractRequest(
                        request -> {
                          long started = System.nanoTime();
                          return mapResponse(
                              r -> {
                                record(started, e.method(), e.template(), r);
                                return r;
                              },
                              () ->
                                  handleExceptions(
                                      PROBLEMS,
                                      () ->
                                          onSuccess(
                                              call(e, request, params).handle(Attempt::of),
                                              attempt ->
                                                  attempt.failure() == null
                                                      ? e.route().apply(attempt.call())
                                                      : complete(toResponse(attempt.failure())))));
                        })));
  }

  /** The call an endpoint's route gets: its caller known and allowed, its body read. */
  private CompletionStage<Call> call(Endpoint e, HttpRequest request, Map<String, String> params) {
    try {
      return principal(e, request)
          .thenCompose(
              principal ->
                  body(e, request).thenApply(body -> new Call(request, params, principal, body)));
    } catch (RuntimeException t) {
      return CompletableFuture.failedFuture(t);
    }
  }

  /** A call made, or why it could not be. */
  private record Attempt(Call call, Throwable failure) {
    static Attempt of(Call call, Throwable failure) {
      return new Attempt(call, failure);
    }
  }

  /** Whatever a route throws or fails with, as its problem document. */
  private static final ExceptionHandler PROBLEMS =
      ExceptionHandler.newBuilder().matchAny(t -> complete(toResponse(t))).build();

  /** Marks the answer to a request no endpoint took: it is timed as {@code unmatched}. */
  private static final AttributeKey<Boolean> UNMATCHED_ANSWER =
      AttributeKey.create("surplus-unmatched", Boolean.class);

  /**
   * A request no endpoint takes: {@code 405} with {@code Allow} when its path is an endpoint's with
   * another method, else {@code 404}. A rejection from an endpoint's own route (a directive of the
   * DSL that refuses the request) is a {@code 400} naming it. Built once: each answer is marked
   * ({@link #UNMATCHED_ANSWER}) and timed where the request's start is known ({@link
   * #afterRefusal}).
   */
  private static final RejectionHandler UNMATCHED =
      RejectionHandler.newBuilder()
          .handleAll(
              Rejection.class,
              rejections ->
                  extractRequest(
                      request -> {
                        Set<String> allowed = new TreeSet<>();
                        for (Rejection m : rejections) {
                          if (!(m instanceof MethodRejection)) {
                            return unmatched(
                                problem(
                                    Problem.of(
                                        400, "bad-request", "Bad request", m.toString(), null)));
                          }
                          allowed.add(((MethodRejection) m).supported().value());
                        }
                        String method = request.method().value();
                        return unmatched(
                            problem(
                                    Problem.of(
                                        405,
                                        "method-not-allowed",
                                        "Method not allowed",
                                        method
                                            + " is not allowed on "
                                            + request.getUri().path()
                                            + "; allowed: "
                                            + allowed,
                                        null))
                                .addHeader(RawHeader.create("Allow", String.join(", ", allowed))));
                      }))
          .handleNotFound(
              extractRequest(
                  request ->
                      unmatched(
                          problem(
                              Problem.notFound(
                                  "no route for "
                                      + request.method().value()
                                      + " "
                                      + request.getUri().path())))))
          .build();

  private static Route unmatched(HttpResponse r) {
    return complete(r.addAttribute(UNMATCHED_ANSWER, Boolean.TRUE));
  }

  /**
   * A refusal goes once the body is drained ({@link #afterBody}); any other result at once. A
   * request no endpoint took is timed here, from {@code started}.
   */
  private CompletionStage<RouteResult> afterRefusal(
      HttpRequest request, RouteResult result, long started) {
    if (result instanceof Complete c && c.getResponse().status().intValue() >= 400) {
      HttpResponse r = c.getResponse();
      if (r.getAttribute(UNMATCHED_ANSWER).isPresent()) {
        record(started, request.method().value(), "unmatched", r);
      }
      return afterBody(request, r).thenApply(RouteResults::complete);
    }
    return CompletableFuture.completedFuture(result);
  }

  private static CompletionStage<HttpResponse> completed(HttpResponse r) {
    return CompletableFuture.completedFuture(r);
  }

  /**
   * A refusal made before the body was read (a key, a route, a media type or a declared length
   * refused) is sent once the rest of the body has been read and dropped, for at most the body
   * timeout and at most the server's {@code max-content-length}: a client still sending its body
   * when the server answers and closes gets a reset, and its HTTP stack often loses the answer with
   * it. A body already read (or none) lets the answer go at once.
   */
  private CompletionStage<HttpResponse> afterBody(HttpRequest request, HttpResponse r) {
    if (request.entity().isStrict() || request.entity().isKnownEmpty()) {
      return completed(r);
    }
    CompletableFuture<HttpResponse> answer = new CompletableFuture<>();
    try {
      request
          .discardEntityBytes(materializer)
          .completionStage()
          .toCompletableFuture()
          .orTimeout(bodyTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .whenComplete((done, failure) -> answer.complete(r));
    } catch (RuntimeException alreadyRead) {
      answer.complete(r); // the handler read the body: nothing is left to drain
    }
    return answer;
  }

  /**
   * The public GET endpoints among this table's that {@code serve} names by template, answered
   * without Pekko HTTP's server (the market-data port's), timed as this table times its own.
   */
  public PublicGets publicGets(java.util.function.Predicate<String> serve) {
    List<Endpoint> gets = new ArrayList<>();
    for (Endpoint e : endpoints) {
      if (e.method().equals("GET")
          && e.roles().isEmpty()
          && e.handler() != null
          && serve.test(e.template())) {
        gets.add(e);
      }
    }
    return new PublicGets(gets, this::record);
  }

  void record(long started, String method, String template, HttpResponse r) {
    timers
        .computeIfAbsent(new TimerKey(method, template, r.status().intValue()), this::timer)
        .record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** What names a request timer: method, route template, status. */
  private record TimerKey(String method, String template, int status) {}

  /**
   * The request timers, each looked up in the registry once: building a meter's id per request cost
   * every read a builder, its tags and a registry lookup.
   */
  private final ConcurrentHashMap<TimerKey, Timer> timers = new ConcurrentHashMap<>();

  private Timer timer(TimerKey k) {
    return Timer.builder("surplus.http.requests")
        .tag("method", k.method())
        .tag("route", k.template())
        .tag("status", Integer.toString(k.status()))
        .publishPercentileHistogram(false)
        .register(metrics);
  }

  private CompletionStage<Principal> principal(Endpoint e, HttpRequest request) {
    if (e.roles().isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    Optional<String> header = request.getHeader("Authorization").map(h -> h.value());
    if (header.isEmpty() || !header.get().startsWith("Bearer ")) {
      return CompletableFuture.failedFuture(
          Problem.unauthorized("send the API key as 'Authorization: Bearer <key>'").failure());
    }
    return auth.authenticate(header.get().substring("Bearer ".length()).strip())
        .thenApply(
            p -> {
              if (!e.roles().contains(p.role())) {
                throw Problem.forbidden(
                        "a "
                            + p.role().name().toLowerCase(java.util.Locale.ROOT)
                            + " key may not call "
                            + e.method()
                            + " "
                            + e.template())
                    .failure();
              }
              return p;
            });
  }

  private CompletionStage<String> body(Endpoint e, HttpRequest request) {
    if (request.method().value().equals("GET")) {
      request.discardEntityBytes(materializer);
      return CompletableFuture.completedFuture("");
    }
    Problem wrongType = contentTypeProblem(e, request.entity());
    if (wrongType != null) {
      return CompletableFuture.failedFuture(wrongType.failure());
    }
    if (e.bodyLimit() == STREAMED_BODY) {
      return CompletableFuture.completedFuture("");
    }
    if (request.entity().getContentLengthOption().orElse(0L) > e.bodyLimit()) {
      // refused before reading (the answer waits for the body: afterBody); toStrict would call a
      // declared length past its own cap broken
      return CompletableFuture.failedFuture(bodyTooLarge(e.bodyLimit()).failure());
    }
    return request
        .entity()
        .withSizeLimit(e.bodyLimit())
        .toStrict(bodyTimeout.toMillis(), materializer)
        .handle(
            (strict, t) -> {
              if (t != null) {
                throw bodyTimedOut(t)
                    ? Problem.requestTimeout(
                            "the body did not arrive within "
                                + bodyTimeout.toSeconds()
                                + " s; nothing was done")
                        .failure()
                    : new CompletionException(t);
              }
              return strict.getData().utf8String();
            });
  }

  /** Whether reading a body failed because it did not arrive within its time. */
  private static boolean bodyTimedOut(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return c instanceof TimeoutException;
  }

  /**
   * Why a request's body may not reach the endpoint because of its {@code Content-Type}, or null. A
   * request without a body passes whatever it declares; one with a body needs a media type the
   * endpoint takes, and a charset, if it names one, of UTF-8 (a body without {@code Content-Type}
   * reads as {@code application/octet-stream}).
   */
  static Problem contentTypeProblem(Endpoint e, RequestEntity entity) {
    if (entity.isKnownEmpty()) {
      return null;
    }
    ContentType type = entity.getContentType();
    String media = type.mediaType().mainType() + "/" + type.mediaType().subType();
    boolean utf8 =
        type.getCharsetOption().map(c -> c.equals(HttpCharsets.UTF_8)).orElse(Boolean.TRUE);
    if (e.mediaTypes().contains(media.toLowerCase(java.util.Locale.ROOT)) && utf8) {
      return null;
    }
    return Problem.unsupportedMediaType(
        e.method()
            + " "
            + e.template()
            + " takes a body of Content-Type "
            + String.join(" or ", new TreeSet<>(e.mediaTypes()))
            + " (UTF-8), not "
            + type);
  }

  /** What a request gets when its handler did not answer within the server's request timeout. */
  static HttpResponse serverTimeout(HttpRequest request) {
    return problem(
            Problem.unavailable(
                "the request was not answered in time; nothing may be acknowledged. Retry (a write"
                    + " with the same Idempotency-Key)"))
        .addHeader(RawHeader.create("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
  }

  static HttpResponse toResponse(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException
            || c instanceof java.util.concurrent.ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof Problem.Failure f) {
      return problem(f.problem());
    }
    if (c instanceof EntityStreamSizeException s) {
      return problem(bodyTooLarge(s.limit()));
    }
    if (c instanceof org.apache.pekko.http.scaladsl.model.EntityStreamException) {
      return problem(
          Problem.of(
              400, "body-broken", "The body broke off", "the request body ended early", null));
    }
    if (c instanceof AskTimeoutException
        || c instanceof TimeoutException
        || c instanceof Unavailable) {
      return problem(
              Problem.unavailable(
                  "the write could not be confirmed in time; nothing is acknowledged. Retry with"
                      + " the same Idempotency-Key"))
          .addHeader(RawHeader.create("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }
    if (storeBusy(c)) {
      // the store did not answer (overloaded, no connection free, a timeout): nothing was read or
      // acknowledged, and a retry later may well succeed
      log.warn("the store did not answer: {}", c.toString());
      return problem(Problem.unavailable("the store did not answer in time; retry later"))
          .addHeader(RawHeader.create("Retry-After", Integer.toString(RETRY_AFTER_SECONDS)));
    }
    if (c instanceof IllegalArgumentException) {
      return problem(Problem.of(400, "bad-request", "Bad request", c.getMessage(), null));
    }
    log.error("unexpected failure", c);
    return problem(
        Problem.of(500, "internal", "Internal error", "an unexpected error; it is logged", null));
  }

  /**
   * Whether {@code c} says the Cassandra store could not answer now, as opposed to a bug: every
   * node tried failed or none was free, the driver or a replica timed out, or the node is
   * overloaded or lacks replicas.
   */
  public static boolean storeBusy(Throwable c) {
    return c instanceof com.datastax.oss.driver.api.core.AllNodesFailedException
        || c instanceof com.datastax.oss.driver.api.core.DriverTimeoutException
        || c instanceof com.datastax.oss.driver.api.core.servererrors.QueryExecutionException
        || c instanceof com.datastax.oss.driver.api.core.NodeUnavailableException;
  }

  static Problem bodyTooLarge(long limit) {
    return Problem.of(
        413,
        "body-too-large",
        "The body is too large",
        "the body exceeds " + limit + " bytes",
        null);
  }

  /** A store that cannot be reached: turned into 503 with Retry-After. */
  public static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static HttpResponse problem(Problem p) {
    return HttpResponse.create()
        .withStatus(p.status())
        .withEntity(HttpEntities.create(PROBLEM_JSON, Json.write(p)));
  }

  public static HttpResponse json(int status, Object body) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, Json.write(body)));
  }

  public static CompletionStage<HttpResponse> ok(Object body) {
    return CompletableFuture.completedFuture(json(200, body));
  }

  /** Every endpoint's (method, template), for the OpenAPI check. */
  public List<String> routeKeys() {
    List<String> keys = new ArrayList<>();
    for (Endpoint e : endpoints) {
      keys.add(e.method() + " " + e.template());
    }
    return keys;
  }
}
