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
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * Public pages that every reader shares, rendered once and served from memory for {@link #ttl}: the
 * latest trades and candles of a market, which the read side answers from Cassandra. Under load,
 * each distinct page costs at most one query per {@code ttl} however many read it; readers asking
 * while it loads share that one load. Only {@code 200}s are kept (an error or a refusal is never
 * served to the next reader); each page carries an {@code ETag}, so a reader that has it gets a
 * {@code 304}. At most {@code maxPages} pages are kept, least recently read dropped first.
 *
 * <p>Stale while revalidating: once a page is older than {@code ttl}, the next reader starts its
 * reload, and until the reload answers every reader (that one included) gets the page it replaces,
 * so no reader of a page already rendered waits for Cassandra: a busy store's tail stays out of the
 * reads' tail. A page older than {@code maxStale} is never served: its readers wait for the reload,
 * as the first readers of a page do. A reload that fails or does not answer {@code 200} keeps the
 * old page for another {@code ttl} (one reload per {@code ttl}, never one per reader, while the
 * store fails).
 */
public final class PageCache {

  /** A rendered page: its bytes, their tag, and when its load started. */
  private record Page(byte[] json, String etag, long bornNanos) {}

  /**
   * The latest load of a page, started at {@code bornNanos}, and the page it replaces ({@code
   * null}: none young enough), served while the load runs.
   */
  private record Entry(CompletableFuture<Optional<Page>> page, long bornNanos, Page stale) {

    /** Its load's page, once the load has given one (the future never completes exceptionally). */
    Optional<Page> loaded() {
      return page.getNow(Optional.empty());
    }

    /** The newest page this entry can serve: its load's, when done, else the one it replaces. */
    Page latest() {
      return loaded().orElse(stale);
    }
  }

  private final long ttlNanos;
  private final long maxStaleNanos;
  private final LongSupplier nanoClock;
  private final Map<String, Entry> pages;

  /**
   * A cache whose pages are served up to two {@code ttl}s old while they reload: a reader who comes
   * back after more than that (a client that fetches once after an event) always waits for a fresh
   * page, so what it sees is never older than its own previous fetch's reload.
   */
  public PageCache(Duration ttl, int maxPages, LongSupplier nanoClock) {
    this(ttl, ttl.multipliedBy(2), maxPages, nanoClock);
  }

  public PageCache(Duration ttl, Duration maxStale, int maxPages, LongSupplier nanoClock) {
    if (maxStale.compareTo(ttl) < 0) {
      throw new IllegalArgumentException("maxStale " + maxStale + " is under the ttl " + ttl);
    }
    this.ttlNanos = ttl.toNanos();
    this.maxStaleNanos = maxStale.toNanos();
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
   * being rendered now, and an older page is young enough to serve meanwhile), else from {@code
   * load}, whose answer is kept when it is a {@code 200}.
   */
  public CompletionStage<HttpResponse> get(
      Api.Call call, String key, Supplier<CompletionStage<HttpResponse>> load) {
    long now = nanoClock.getAsLong();
    CompletableFuture<Optional<Page>> mine = null;
    Entry entry;
    synchronized (pages) {
      entry = pages.get(key);
      if (entry == null || now - entry.bornNanos() >= ttlNanos) {
        Page last = entry == null ? null : entry.latest();
        if (last != null && now - last.bornNanos() >= maxStaleNanos) {
          last = null;
        }
        mine = new CompletableFuture<>();
        entry = new Entry(mine, now, last);
        pages.put(key, entry);
      }
    }
    if (mine == null) {
      Page latest = entry.latest();
      if (latest != null && now - latest.bornNanos() < maxStaleNanos) {
        return send(call, latest);
      }
      // another reader's first load: its page, or (when it was not a 200) a load of our own
      return entry.page().thenCompose(p -> p.map(page -> send(call, page)).orElseGet(load));
    }
    CompletableFuture<Optional<Page>> page = mine;
    Entry loading = entry;
    Page stale = entry.stale();
    CompletionStage<HttpResponse> loaded;
    try {
      loaded = load.get();
    } catch (RuntimeException e) {
      failed(key, loading);
      throw e;
    }
    CompletionStage<HttpResponse> answered =
        loaded
            .thenApply(
                response -> {
                  Optional<Page> kept = keepable(response, now);
                  if (kept.isEmpty()) {
                    failed(key, loading);
                  } else {
                    page.complete(kept);
                  }
                  return kept.map(p -> sendNow(call, p)).orElse(response);
                })
            .whenComplete(
                (response, failure) -> {
                  if (failure != null) {
                    failed(key, loading);
                  }
                });
    // a reload that has not answered yet, or did not give a page: this reader gets the old one
    return stale != null && loading.loaded().isEmpty() ? send(call, stale) : answered;
  }

  /**
   * A load that failed or did not answer {@code 200}: with an older page to serve, the entry keeps
   * it (the next reload comes a {@code ttl} after this one started); without one, the entry goes,
   * so the next reader loads again and no error is ever served from memory.
   */
  private void failed(String key, Entry entry) {
    if (entry.stale() == null) {
      forget(key, entry);
    }
    entry.page().complete(Optional.empty());
  }

  private void forget(String key, Entry entry) {
    synchronized (pages) {
      pages.remove(key, entry);
    }
  }

  /** A 200 with a strict JSON body becomes a page; anything else is passed on, not kept. */
  private static Optional<Page> keepable(HttpResponse response, long bornNanos) {
    if (response.status() != StatusCodes.OK
        || !(response.entity() instanceof HttpEntity.Strict strict)) {
      return Optional.empty();
    }
    byte[] json = strict.getData().toArray();
    return Optional.of(new Page(json, tag(json), bornNanos));
  }

  private static CompletionStage<HttpResponse> send(Api.Call call, Page page) {
    return CompletableFuture.completedFuture(sendNow(call, page));
  }

  private static HttpResponse sendNow(Api.Call call, Page page) {
    return EntityTags.json(call, page.etag(), page.json(), page.json().length);
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
