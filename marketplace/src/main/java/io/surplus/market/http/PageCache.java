package io.surplus.market.http;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Public pages that every reader shares, rendered once and served from memory for {@link #ttl}: the
 * latest trades and candles of a market, which the read side answers from Cassandra. Under load,
 * each distinct page costs at most one query per {@code ttl} however many read it; readers asking
 * while it loads share that one load. Only {@code 200}s are kept (an error or a refusal is never
 * served to the next reader); each page carries an {@code ETag}, so a reader that has it gets a
 * {@code 304}. At most {@code maxPages} pages are kept, least recently read dropped first.
 */
public final class PageCache {

  /** A rendered page: its bytes and their tag. */
  private record Page(byte[] json, String etag) {}

  private record Entry(CompletableFuture<Optional<Page>> page, long bornNanos) {}

  private final long ttlNanos;
  private final LongSupplier nanoClock;
  private final Map<String, Entry> pages;

  public PageCache(Duration ttl, int maxPages, LongSupplier nanoClock) {
    this.ttlNanos = ttl.toNanos();
    this.nanoClock = nanoClock;
    this.pages =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
            return size() > maxPages;
          }
        };
  }

  public Duration ttl() {
    return Duration.ofNanos(ttlNanos);
  }

  /**
   * The page named {@code key}: from memory when it was rendered less than {@code ttl} ago (or is
   * being rendered now), else from {@code load}, whose answer is kept when it is a {@code 200}.
   */
  public CompletionStage<HttpResponse> get(
      Api.Call call, String key, Supplier<CompletionStage<HttpResponse>> load) {
    long now = nanoClock.getAsLong();
    CompletableFuture<Optional<Page>> mine = null;
    Entry entry;
    synchronized (pages) {
      entry = pages.get(key);
      if (entry == null || now - entry.bornNanos() >= ttlNanos) {
        mine = new CompletableFuture<>();
        entry = new Entry(mine, now);
        pages.put(key, entry);
      }
    }
    if (mine == null) {
      // another reader's load: its page, or (when it was not a 200) a load of our own
      return entry.page().thenCompose(p -> p.map(page -> send(call, page)).orElseGet(load));
    }
    CompletableFuture<Optional<Page>> page = mine;
    Entry loading = entry;
    CompletionStage<HttpResponse> loaded;
    try {
      loaded = load.get();
    } catch (RuntimeException e) {
      forget(key, loading);
      page.complete(Optional.empty());
      throw e;
    }
    return loaded
        .thenApply(
            response -> {
              Optional<Page> kept = keepable(response);
              if (kept.isEmpty()) {
                forget(key, loading);
              }
              page.complete(kept);
              return kept.map(p -> sendNow(call, p)).orElse(response);
            })
        .whenComplete(
            (response, failure) -> {
              if (failure != null) {
                forget(key, loading);
                page.complete(Optional.empty());
              }
            });
  }

  private void forget(String key, Entry entry) {
    synchronized (pages) {
      pages.remove(key, entry);
    }
  }

  /** A 200 with a strict JSON body becomes a page; anything else is passed on, not kept. */
  private static Optional<Page> keepable(HttpResponse response) {
    if (response.status() != StatusCodes.OK
        || !(response.entity() instanceof HttpEntity.Strict strict)) {
      return Optional.empty();
    }
    byte[] json = strict.getData().toArray();
    return Optional.of(new Page(json, tag(json)));
  }

  private static CompletionStage<HttpResponse> send(Api.Call call, Page page) {
    return CompletableFuture.completedFuture(sendNow(call, page));
  }

  private static HttpResponse sendNow(Api.Call call, Page page) {
    RawHeader etag = RawHeader.create("ETag", page.etag());
    Optional<String> ifNoneMatch = call.header("If-None-Match");
    if (ifNoneMatch.isPresent() && EntityTags.matches(ifNoneMatch.get(), page.etag())) {
      return HttpResponse.create().withStatus(StatusCodes.NOT_MODIFIED).addHeader(etag);
    }
    return HttpResponse.create()
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, page.json()))
        .addHeader(etag);
  }

  /** A strong tag of the page's bytes: the first 96 bits of their SHA-256. */
  static String tag(byte[] json) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(json);
      return "\"" + Base64.getUrlEncoder().encodeToString(Arrays.copyOf(digest, 12)) + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
