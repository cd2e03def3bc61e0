package io.surplus.market.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.junit.jupiter.api.Test;

/**
 * Shared public pages: one load per page and period, readers of a loading page share it, and a page
 * being reloaded is served as it was meanwhile (up to its stale limit).
 */
class PageCacheTest {

  private final AtomicLong clock = new AtomicLong();
  private final PageCache cache = new PageCache(Duration.ofMillis(500), 2, clock::get);
  private final AtomicInteger loads = new AtomicInteger();

  private static Api.Call call() {
    return new Api.Call(HttpRequest.GET("/v1/markets/H100/trades"), Map.of(), null, null);
  }

  private Supplier<CompletionStage<HttpResponse>> page(String body) {
    return () -> {
      loads.incrementAndGet();
      return CompletableFuture.completedFuture(Api.json(200, Map.of("page", body)));
    };
  }

  private static String body(CompletionStage<HttpResponse> r) throws Exception {
    HttpEntity.Strict e = (HttpEntity.Strict) r.toCompletableFuture().get().entity();
    return e.getData().decodeString(StandardCharsets.UTF_8);
  }

  @Test
  void shouldLoadAPageOncePerPeriodAndAgainAfterIt() throws Exception {
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("a"))));
    clock.addAndGet(Duration.ofMillis(499).toNanos());
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("b"))));
    assertEquals(1, loads.get());
    clock.addAndGet(Duration.ofMillis(1).toNanos());
    assertEquals("{\"page\":\"b\"}", body(cache.get(call(), "k", page("b"))));
    assertEquals(2, loads.get());
  }

  @Test
  void shouldShareOneLoadAmongReadersWhileItRuns() throws Exception {
    CompletableFuture<HttpResponse> slow = new CompletableFuture<>();
    CompletionStage<HttpResponse> first =
        cache.get(
            call(),
            "k",
            () -> {
              loads.incrementAndGet();
              return slow;
            });
    CompletionStage<HttpResponse> second = cache.get(call(), "k", page("other"));
    assertEquals(1, loads.get());
    slow.complete(Api.json(200, Map.of("page", "slow")));
    assertEquals("{\"page\":\"slow\"}", body(first));
    assertEquals("{\"page\":\"slow\"}", body(second));
    assertEquals(1, loads.get());
  }

  private Supplier<CompletionStage<HttpResponse>> pending(CompletableFuture<HttpResponse> answer) {
    return () -> {
      loads.incrementAndGet();
      return answer;
    };
  }

  private void advance(long millis) {
    clock.addAndGet(Duration.ofMillis(millis).toNanos());
  }

  @Test
  void shouldServeTheOldPageAtOnceWhileItReloads() throws Exception {
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("a"))));
    advance(500);
    CompletableFuture<HttpResponse> slow = new CompletableFuture<>();
    CompletionStage<HttpResponse> trigger = cache.get(call(), "k", pending(slow));
    assertTrue(trigger.toCompletableFuture().isDone(), "the reader who reloads waits for nothing");
    assertEquals("{\"page\":\"a\"}", body(trigger));
    CompletionStage<HttpResponse> meanwhile = cache.get(call(), "k", page("other"));
    assertTrue(meanwhile.toCompletableFuture().isDone());
    assertEquals("{\"page\":\"a\"}", body(meanwhile));
    assertEquals(2, loads.get(), "one reload, however many read");
    slow.complete(Api.json(200, Map.of("page", "b")));
    assertEquals("{\"page\":\"b\"}", body(cache.get(call(), "k", page("other"))));
    assertEquals(2, loads.get());
  }

  @Test
  void shouldKeepTheOldPageWhenAReloadFailsAndRetryOncePerPeriod() throws Exception {
    PageCache cache = new PageCache(Duration.ofMillis(500), Duration.ofSeconds(5), 2, clock::get);
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("a"))));
    advance(500);
    assertEquals(
        "{\"page\":\"a\"}",
        body(
            cache.get(
                call(),
                "k",
                pending(CompletableFuture.failedFuture(new IllegalStateException("down"))))));
    advance(100);
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("never"))));
    assertEquals(2, loads.get(), "no reload of its own for a reader while the store fails");
    advance(400);
    CompletableFuture<HttpResponse> refused = new CompletableFuture<>();
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", pending(refused))));
    refused.complete(Api.json(503, Map.of("detail", "busy")));
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("never"))));
    assertEquals(3, loads.get());
    advance(500);
    assertEquals("{\"page\":\"c\"}", body(cache.get(call(), "k", page("c"))));
  }

  @Test
  void shouldNeverServeAPageOlderThanItsStaleLimit() throws Exception {
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("a"))));
    advance(999);
    CompletableFuture<HttpResponse> pendingReload = new CompletableFuture<>();
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", pending(pendingReload))));
    pendingReload.complete(Api.json(200, Map.of("page", "a")));
    // the page just reloaded was born 999 ms in: from there, two periods again
    advance(1_000); // two periods: the default stale limit
    CompletableFuture<HttpResponse> slow = new CompletableFuture<>();
    CompletionStage<HttpResponse> reader = cache.get(call(), "k", pending(slow));
    CompletionStage<HttpResponse> another = cache.get(call(), "k", page("other"));
    assertTrue(!reader.toCompletableFuture().isDone() && !another.toCompletableFuture().isDone());
    slow.complete(Api.json(200, Map.of("page", "b")));
    assertEquals("{\"page\":\"b\"}", body(reader));
    assertEquals("{\"page\":\"b\"}", body(another));
    assertEquals(3, loads.get());
  }

  @Test
  void shouldNeverKeepAnErrorOrAFailure() throws Exception {
    HttpResponse notFound = Api.json(404, Map.of("detail", "none"));
    assertEquals(
        404,
        cache
            .get(call(), "k", () -> CompletableFuture.completedFuture(notFound))
            .toCompletableFuture()
            .get()
            .status()
            .intValue());
    assertEquals("{\"page\":\"a\"}", body(cache.get(call(), "k", page("a"))));

    CompletionStage<HttpResponse> failed =
        cache.get(
            call(), "f", () -> CompletableFuture.failedFuture(new IllegalStateException("down")));
    assertThrows(ExecutionException.class, () -> failed.toCompletableFuture().get());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            cache.get(
                call(),
                "g",
                () -> {
                  throw new IllegalArgumentException("bad query");
                }));
    loads.set(0);
    assertEquals("{\"page\":\"b\"}", body(cache.get(call(), "f", page("b"))));
    assertEquals("{\"page\":\"c\"}", body(cache.get(call(), "g", page("c"))));
    assertEquals(2, loads.get());
  }

  @Test
  void shouldAnswer304ToAReaderThatHasThePage() throws Exception {
    HttpResponse first = cache.get(call(), "k", page("a")).toCompletableFuture().get();
    String etag = first.getHeader("ETag").orElseThrow().value();
    assertTrue(etag.startsWith("\"") && etag.endsWith("\""), etag);
    Api.Call again =
        new Api.Call(
            HttpRequest.GET("/v1/markets/H100/trades")
                .addHeader(RawHeader.create("If-None-Match", etag)),
            Map.of(),
            null,
            null);
    assertEquals(
        304, cache.get(again, "k", page("a")).toCompletableFuture().get().status().intValue());
  }

  @Test
  void shouldKeepAtMostItsBoundOfPages() throws Exception {
    cache.get(call(), "a", page("a"));
    cache.get(call(), "b", page("b"));
    cache.get(call(), "a", page("a")); // a is now the most recently read
    cache.get(call(), "c", page("c")); // drops b
    loads.set(0);
    cache.get(call(), "a", page("a"));
    cache.get(call(), "b", page("b"));
    assertEquals(1, loads.get());
  }
}
