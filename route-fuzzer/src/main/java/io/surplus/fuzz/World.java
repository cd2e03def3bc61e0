package io.surplus.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the fuzzer has seen of the service (markets, the slot grid, ids, cursors, epochs, keys) and
 * its ledger of what succeeded: the bids and windows it got a 2xx for, and those whose outcome it
 * could not know (a 5xx, a 503, no answer). Generated requests draw valid values from here; the
 * checks afterwards compare what the service lists with the ledger. Thread-safe.
 */
final class World {

  /** An account the fuzzer holds a key of. */
  record Account(String key, String role, long id) {}

  record Market(String model, int gpusPerNode) {}

  /** What identifies a window on the anonymous timeline. */
  record WindowFacts(
      String gpuModel,
      String region,
      int nodes,
      int gpusPerNode,
      String reservePrice,
      int noticeSeconds) {}

  /** What identifies a bid of an unknown outcome when it shows up later. */
  record BidFacts(long account, String gpuModel, int nodes, int durationMinutes, String limit) {}

  /** A window the fuzzer's provider opened through its feed. */
  record FeedWindow(String windowId, String model, Instant start, Instant end, int nodes) {}

  private static final Pattern BID_ID = Pattern.compile("bid_(\\d{1,19})_(\\d{1,19})");
  private static final Pattern LEASE_ID = Pattern.compile("lease_[A-Za-z0-9-]{1,40}_\\d{1,19}");
  private static final Pattern WIN_ID = Pattern.compile("win_\\d{1,19}_\\d{1,19}");
  private static final Pattern BOARD = Pattern.compile("/(board/[A-Za-z0-9._-]{1,64})");
  private static final Pattern ECHARTS =
      Pattern.compile("/webjars/echarts/([0-9A-Za-z._-]{1,20})/([A-Za-z0-9._-]{1,64})");

  final List<Market> markets = new ArrayList<>();
  final List<String> regions = new ArrayList<>();

  /** The clock that valid instants are made from (fixed in tests). */
  volatile java.time.Clock clock = java.time.Clock.systemUTC();

  volatile int slotSeconds = 900;
  volatile Instant horizonEnd = Instant.now().plusSeconds(7 * 86_400L);

  private final List<Account> accounts = new ArrayList<>();
  private final Set<String> bidIds = new LinkedHashSet<>();
  private final Set<String> leaseIds = new LinkedHashSet<>();
  private final Set<String> windowIds = new LinkedHashSet<>();
  private final Map<String, List<String>> cursors = new HashMap<>();
  private final Set<Long> epochs = new LinkedHashSet<>();
  private final Set<String> days = new LinkedHashSet<>();
  private final Set<String> boardAssets = new LinkedHashSet<>();
  private final Set<String> echarts = new LinkedHashSet<>();

  /** Per bidder key: the Idempotency-Keys it used on POST /v1/bids and on the batch route. */
  private final Map<String, Set<String>> singleKeys = new HashMap<>();

  private final Map<String, List<String>> batchKeys = new HashMap<>();

  /** Per key of any write route: the body last sent with it (to replay or to change). */
  private final Map<String, Map<String, String>> keyBodies = new HashMap<>();

  /** Per provider key: the last feed sequence applied, and its windows. */
  private final Map<String, Long> feedSeq = new HashMap<>();

  private final Map<String, List<FeedWindow>> feedWindows = new HashMap<>();
  private final Map<String, Integer> feedWindowCounter = new HashMap<>();

  // the ledger
  private final Set<String> okBids = new HashSet<>();
  private final List<BidFacts> unknownBids = new ArrayList<>();
  private final List<WindowFacts> okWindows = new ArrayList<>();
  private final List<WindowFacts> unknownWindows = new ArrayList<>();

  synchronized void addAccount(Account a) {
    if (accounts.stream().noneMatch(x -> x.key().equals(a.key()))) {
      accounts.add(a);
    }
  }

  synchronized List<Account> accounts() {
    return List.copyOf(accounts);
  }

  synchronized List<Account> accounts(String role) {
    return accounts.stream().filter(a -> a.role().equals(role)).toList();
  }

  /** The account of a key {@code sk_<id>_<secret>}, or -1. */
  static long accountOf(String key) {
    if (key == null || !key.startsWith("sk_")) {
      return -1;
    }
    int end = key.indexOf('_', 3);
    try {
      return Long.parseLong(key.substring(3, end));
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Harvests ids, cursors, epochs, days, accounts and board assets from any answer. */
  void harvest(String route, Exchange.Answer a) {
    String text = a.text();
    if (text.isEmpty() || text.length() > 4_000_000) {
      return;
    }
    synchronized (this) {
      if (route.startsWith("GET /") && !route.startsWith("GET /v1") && text.contains("<")) {
        Matcher m = BOARD.matcher(text);
        while (m.find()) {
          boardAssets.add(m.group(1).substring("board/".length()));
        }
        m = ECHARTS.matcher(text);
        while (m.find()) {
          echarts.add(m.group(1) + "/" + m.group(2));
        }
      }
    }
    JsonNode j = a.json();
    if (j == null) {
      return;
    }
    synchronized (this) {
      walk(route, j, null);
    }
  }

  private void walk(String route, JsonNode n, String field) {
    if (n.isObject()) {
      n.fields().forEachRemaining(e -> walk(route, e.getValue(), e.getKey()));
      if (n.has("apiKey") && n.has("role") && n.has("account")) {
        addAccount(
            new Account(
                n.get("apiKey").asText(), n.get("role").asText(), n.get("account").asLong()));
      }
    } else if (n.isArray()) {
      n.forEach(x -> walk(route, x, field));
    } else if (n.isTextual()) {
      String s = n.asText();
      if ("nextCursor".equals(field)) {
        List<String> list = cursors.computeIfAbsent(route, k -> new ArrayList<>());
        if (list.size() < 200 && !list.contains(s)) {
          list.add(s);
        }
      } else if (BID_ID.matcher(s).matches()) {
        if (bidIds.size() < 20_000) {
          bidIds.add(s);
        }
      } else if (LEASE_ID.matcher(s).matches()) {
        if (leaseIds.size() < 20_000) {
          leaseIds.add(s);
        }
      } else if (WIN_ID.matcher(s).matches()) {
        if (windowIds.size() < 20_000) {
          windowIds.add(s);
        }
      } else if ("clearedAt".equals(field) && s.length() >= 10) {
        days.add(s.substring(0, 10));
      }
    } else if (n.isIntegralNumber() && "epoch".equals(field)) {
      if (epochs.size() < 5_000) {
        epochs.add(n.asLong());
      }
    }
  }

  private static <T> T pick(SplittableRandom rng, List<T> list) {
    return list.isEmpty() ? null : list.get(rng.nextInt(list.size()));
  }

  synchronized String bidId(SplittableRandom rng) {
    return pick(rng, new ArrayList<>(bidIds));
  }

  synchronized String leaseId(SplittableRandom rng) {
    return pick(rng, new ArrayList<>(leaseIds));
  }

  synchronized String windowId(SplittableRandom rng) {
    return pick(rng, new ArrayList<>(windowIds));
  }

  synchronized String cursor(SplittableRandom rng, String route) {
    if (rng.nextInt(4) == 0) {
      // a cursor of another route
      List<String> all = new ArrayList<>();
      cursors.values().forEach(all::addAll);
      return pick(rng, all);
    }
    return pick(rng, cursors.getOrDefault(route, List.of()));
  }

  synchronized Long epoch(SplittableRandom rng) {
    return pick(rng, new ArrayList<>(epochs));
  }

  synchronized String day(SplittableRandom rng) {
    return pick(rng, new ArrayList<>(days));
  }

  synchronized String boardAsset(SplittableRandom rng) {
    return pick(rng, new ArrayList<>(boardAssets));
  }

  synchronized String echartsFile(SplittableRandom rng) {
    return pick(rng, new ArrayList<>(echarts));
  }

  synchronized void usedSingleKey(String bidder, String key) {
    singleKeys.computeIfAbsent(bidder, k -> new HashSet<>()).add(key);
  }

  synchronized boolean singleKeyUsed(String bidder, String key) {
    return singleKeys.getOrDefault(bidder, Set.of()).contains(key);
  }

  synchronized void usedBatchKey(String bidder, String key) {
    batchKeys.computeIfAbsent(bidder, k -> new ArrayList<>()).add(key);
  }

  synchronized String batchKey(SplittableRandom rng, String bidder) {
    return pick(rng, batchKeys.getOrDefault(bidder, List.of()));
  }

  synchronized void keyBody(String route, String key, String body) {
    Map<String, String> m = keyBodies.computeIfAbsent(route, k -> new LinkedHashMap<>());
    if (m.size() < 5_000) {
      m.put(key, body);
    }
  }

  /** A key used before on {@code route}, with its body: {key, body}, or null. */
  synchronized String[] usedKey(SplittableRandom rng, String route) {
    Map<String, String> m = keyBodies.getOrDefault(route, Map.of());
    String k = pick(rng, new ArrayList<>(m.keySet()));
    return k == null ? null : new String[] {k, m.get(k)};
  }

  synchronized long feedSeq(String provider) {
    return feedSeq.getOrDefault(provider, 0L);
  }

  synchronized void feedSeq(String provider, long lastApplied) {
    feedSeq.merge(provider, lastApplied, Math::max);
  }

  private final Set<String> resync = new HashSet<>();

  /** The provider's position is unknown after an answer that did not say it. */
  synchronized void feedResync(String provider) {
    resync.add(provider);
  }

  synchronized boolean takeFeedResync(String provider) {
    return resync.remove(provider);
  }

  synchronized String newFeedWindowId(String provider, long seed) {
    int n = feedWindowCounter.merge(provider, 1, Integer::sum);
    return "fz" + Long.toHexString(seed & 0xFFFFFF) + ".w" + n;
  }

  synchronized void feedWindowOpened(String provider, FeedWindow w) {
    List<FeedWindow> list = feedWindows.computeIfAbsent(provider, k -> new ArrayList<>());
    list.removeIf(x -> x.windowId().equals(w.windowId()));
    list.add(w);
  }

  /** One of the provider's windows in {@code model}, or null. */
  synchronized FeedWindow feedWindow(SplittableRandom rng, String provider, String model) {
    return pick(
        rng,
        feedWindows.getOrDefault(provider, List.of()).stream()
            .filter(w -> w.model().equals(model))
            .toList());
  }

  synchronized void okBid(String id) {
    okBids.add(id);
  }

  synchronized boolean isOkBid(String id) {
    return okBids.contains(id);
  }

  synchronized void unknownBid(BidFacts f) {
    unknownBids.add(f);
  }

  /** Whether a listed bid matches one whose outcome the fuzzer could not know. */
  synchronized boolean matchesUnknownBid(BidFacts f) {
    return unknownBids.contains(f);
  }

  synchronized void okWindow(WindowFacts w) {
    okWindows.add(w);
  }

  synchronized void unknownWindow(WindowFacts w) {
    unknownWindows.add(w);
  }

  synchronized List<WindowFacts> okWindows() {
    return List.copyOf(okWindows);
  }

  synchronized List<WindowFacts> unknownWindows() {
    return List.copyOf(unknownWindows);
  }

  synchronized int okBidCount() {
    return okBids.size();
  }

  /** A decimal string as the service prints it, for comparing: no trailing zeros. */
  static String decimal(String s) {
    try {
      return new BigDecimal(s).stripTrailingZeros().toPlainString();
    } catch (RuntimeException e) {
      return s;
    }
  }

  int gpusPerNode(String model) {
    return markets.stream()
        .filter(m -> m.model().equals(model))
        .mapToInt(Market::gpusPerNode)
        .findFirst()
        .orElse(8);
  }
}
