package io.surplus.market.board;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.assertions.LocatorAssertions;
import io.surplus.engine.SlotClock;
import io.surplus.market.http.Bodies;
import io.surplus.market.http.FeedTestLines;
import io.surplus.market.http.Role;
import io.surplus.market.http.TestService;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The web board in a real headless Chromium (Debian's, driven by Playwright) against the whole
 * service and the test Cassandra node: one browser page and one service for the class, seeded once
 * with a market that has trades, candles and open bids. The tests run in a random order (JUnit logs
 * its seed): each opens the page on the market when it is not there and live, and checks the page
 * against what the API says at that moment, whatever the others added. The market runs on 15 s
 * slots like the demo, so windows start within seconds. Every test fails on any console error or
 * page error; only while the service is deliberately down are the browser's own network errors
 * tolerated. Screenshots go to {@code target/screenshots}.
 */
@TestMethodOrder(MethodOrderer.Random.class)
class BoardTest {

  static final String H100 = "H100-SXM-80GB";
  static final double TIMEOUT_MS = 60_000;

  static TestService service;
  static SlotClock clock;
  static String provider;
  static String bidder;
  static String trader;
  static long feedSeq;
  static int firstSlot;

  static Playwright playwright;
  static Browser browser;
  static BrowserContext context;
  static Page page;
  static Path screenshots;

  /** Console errors and page errors, each with whether the service was down on purpose. */
  record ConsoleError(String text, boolean duringOutage) {}

  static final List<ConsoleError> errors = Collections.synchronizedList(new ArrayList<>());
  static volatile boolean outage;

  /** Network failures a browser logs by itself while the service it talks to is down. */
  static final Pattern OUTAGE_NOISE =
      Pattern.compile(
          "WebSocket connection to .* failed.*|.*net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET"
              + "|EMPTY_RESPONSE|CONNECTION_CLOSED).*|.*status of 503.*",
          Pattern.DOTALL);

  /**
   * The class's longest run, with room to spare: the tape and the ticker's GPU-hours are of the
   * current UTC day, so the seed and the checks of them must not straddle midnight.
   */
  static final java.time.Duration ONE_DAY_MARGIN = java.time.Duration.ofMinutes(10);

  @BeforeAll
  static void start() throws InterruptedException {
    // a run that began a minute before midnight UTC saw one of its three fills on the day's tape
    // (the read side buckets trades by UTC day): start such a run on the new day instead
    Instant now = Instant.now();
    Instant midnight =
        LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    if (now.plus(ONE_DAY_MARGIN).isAfter(midnight)) {
      Thread.sleep(java.time.Duration.between(now, midnight).toMillis() + 1_000);
    }
    service =
        TestService.start("board" + System.nanoTime() % 1_000_000, "surplus.slot-seconds = 15");
    clock = service.settings().clock();
    provider = service.account(201, Role.PROVIDER, 0);
    bidder = service.account(202, Role.BIDDER, 1_000_000_000_000L);
    trader = service.account(203, Role.BIDDER, 100_000_000_000L);
    seedMarket();

    screenshots = Path.of(System.getProperty("surplus.screenshots", "target/screenshots"));
    playwright = Playwright.create();
    browser =
        playwright
            .chromium()
            .launch(
                new BrowserType.LaunchOptions()
                    .setExecutablePath(Paths.get("/usr/bin/chromium"))
                    .setHeadless(true)
                    .setArgs(
                        List.of(
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--disable-sync")));
    context =
        browser.newContext(
            new Browser.NewContextOptions()
                .setViewportSize(1600, 1000)
                .setLocale("en-US")
                .setTimezoneId("UTC"));
    page = context.newPage();
    page.setDefaultTimeout(TIMEOUT_MS);
    page.onConsoleMessage(
        m -> {
          if (m.type().equals("error")) {
            errors.add(new ConsoleError(m.text(), outage));
          }
        });
    page.onPageError(e -> errors.add(new ConsoleError("page error: " + e, outage)));
  }

  @AfterAll
  static void stop() {
    try {
      if (playwright != null) {
        playwright.close();
      }
    } finally {
      service.close();
    }
  }

  /** The page on the H100 market and live, as a reader who just opened it has it. */
  @BeforeEach
  void openTheMarket() {
    if (!page.url().endsWith("/#" + H100)
        || !"live".equals(page.getAttribute("#conn", "data-state"))) {
      page.navigate(service.base() + "/#" + H100);
    }
    assertThat(page.locator("#conn")).hasAttribute("data-state", "live");
  }

  /** No console error in the test just run (outside an outage, nothing at all). */
  @AfterEach
  void shouldHaveLoggedNoConsoleErrors() {
    List<String> bad = new ArrayList<>();
    synchronized (errors) {
      for (ConsoleError e : errors) {
        if (!(e.duringOutage() && OUTAGE_NOISE.matcher(e.text()).matches())) {
          bad.add(e.text());
        }
      }
      errors.clear();
    }
    assertEquals(List.of(), bad, "console errors");
  }

  // ------------------------------------------------------------------ the market under the board

  /** The start of the slot {@code k} slots after the first whole slot from the class's start. */
  static Instant at(int k) {
    return clock.start(firstSlot + k);
  }

  static String window(
      String id, String pool, String region, int nodes, int from, int to, String reserve) {
    return FeedTestLines.opened(
        ++feedSeq, id, H100, pool, region, nodes, at(from), at(to), reserve, 60);
  }

  static void feed(String... lines) {
    TestService.Reply r = service.post("/v1/feed", provider, null, String.join("\n", lines) + "\n");
    assertEquals(200, r.status(), r.body());
  }

  static String bid(int nodes, int minutes, int from, int to, String limit) {
    return Bodies.bidAt(H100, nodes, minutes, at(from), at(to), limit);
  }

  static String place(String key, String idempotencyKey, String body) {
    TestService.Reply r = service.post("/v1/bids", key, idempotencyKey, body);
    assertEquals(201, r.status(), r.body());
    return r.json().get("id").asText();
  }

  static void awaitFilled(String bidId) {
    TestService.await(
        () -> service.get("/v1/bids/" + bidId, bidder),
        r -> r.json().get("status").asText().equals("filled"));
  }

  /**
   * Three windows in three pools, three fills at different prices (so there are trades and
   * candles), and two bids that stay open (one below every reserve, one where there is no capacity)
   * so the market has reasons to show.
   */
  static void seedMarket() {
    firstSlot = clock.slotAtOrAfter(System.currentTimeMillis()) + 1;
    feed(
        window("w-a", "ash-h100-a", "us-east", 16, 0, 240, "1.20"),
        window("w-b", "ash-h100-b", "us-east", 8, 4, 160, "1.50"),
        window("w-c", "fra-h100-c", "eu-central", 8, 20, 300, "1.80"));
    awaitFilled(place(bidder, "s-1", bid(4, 10, 0, 240, "2.10")));
    awaitFilled(place(bidder, "s-2", bid(2, 15, 0, 240, "1.90")));
    awaitFilled(place(bidder, "s-3", bid(4, 5, 0, 240, "2.40")));
    place(bidder, "keep-low", bid(1, 5, 0, 240, "0.50"));
    place(bidder, "keep-late", bid(2, 5, 400, 500, "3.00"));
    TestService.await(
        () -> service.get("/v1/markets/" + H100 + "/trades", null),
        r -> r.json().get("trades").size() == 3);
  }

  // ------------------------------------------------------------------ helpers on the page

  static LocatorAssertions.HasTextOptions text() {
    return new LocatorAssertions.HasTextOptions().setTimeout(TIMEOUT_MS);
  }

  static LocatorAssertions.ContainsTextOptions contains() {
    return new LocatorAssertions.ContainsTextOptions().setTimeout(TIMEOUT_MS);
  }

  /** Waits until the page's JavaScript expression is true. */
  static void waitFor(String expression) {
    page.waitForFunction(
        "() => { try { return !!(" + expression + "); } catch (e) { return false; } }",
        null,
        new Page.WaitForFunctionOptions().setTimeout(TIMEOUT_MS).setPollingInterval(200));
  }

  /**
   * Runs {@code action}, which has the page ask for something the service refuses with {@code
   * status} on purpose: waits for the browser's own log line of that response and takes it out of
   * the console errors (any other error still fails the test).
   */
  static void refusedOnPurpose(int status, Runnable action) {
    String line = "the server responded with a status of " + status;
    page.waitForConsoleMessage(
        new Page.WaitForConsoleMessageOptions()
            .setPredicate(m -> m.text().contains(line))
            .setTimeout(TIMEOUT_MS),
        action);
    errors.removeIf(e -> e.text().contains(line));
  }

  static Object eval(String expression) {
    return page.evaluate("() => " + expression);
  }

  static void screenshot(String name) {
    page.screenshot(
        new Page.ScreenshotOptions().setPath(screenshots.resolve(name)).setFullPage(true));
  }

  /** A decimal string as the board shows it: at least two decimals. */
  static String shown(String decimal) {
    BigDecimal d = new BigDecimal(decimal).stripTrailingZeros();
    return (d.scale() < 2 ? d.setScale(2) : d).toPlainString();
  }

  /** Polls {@code condition} (the page against the API, both read anew) until it holds. */
  static void until(java.util.function.BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + (long) TIMEOUT_MS * 1_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, what + ": not within " + TIMEOUT_MS + " ms");
      page.waitForTimeout(200);
    }
  }

  /** How many candles of {@code interval} the API has now. */
  static int candles(String interval) {
    return service
        .get("/v1/markets/" + H100 + "/candles?interval=" + interval, null)
        .json()
        .get("candles")
        .size();
  }

  /** How many candles the chart draws, once it shows {@code interval}; -1 before. */
  static int candlesDrawn(String interval) {
    return ((Number)
            eval(
                "(() => { try { return surplusBoard.panels.candles.loadedInterval === '"
                    + interval
                    + "' ? "
                    + chartOption("chart-candles")
                    + ".series[0].data.length : -1; } catch (e) { return -1; } })()"))
        .intValue();
  }

  /** The market's trades as the API has them now, newest first. */
  static JsonNode trades() {
    return service.get("/v1/markets/" + H100 + "/trades", null).json().get("trades");
  }

  /** The market's line in the market list as the API has it now. */
  static JsonNode marketLine() {
    for (JsonNode m : service.get("/v1/markets", null).json().get("markets")) {
      if (m.get("gpuModel").asText().equals(H100)) {
        return m;
      }
    }
    throw new AssertionError("no " + H100 + " in the market list");
  }

  static long shownEpoch() {
    String t = page.textContent("#epoch-no").strip();
    return t.startsWith("#") ? Long.parseLong(t.substring(1)) : 0;
  }

  static String chartOption(String chart) {
    return "surplusBoard.charts()['" + chart + "'].getOption()";
  }

  /** Pixels not transparent on the canvases of a chart. */
  static long paintedPixels(String chartId) {
    Object n =
        page.evaluate(
            "(id) => { let n = 0; for (const cv of document.querySelectorAll('#' + id + ' canvas'))"
                + " { const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;"
                + " for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++; } return n; }",
            chartId);
    return ((Number) n).longValue();
  }

  // ------------------------------------------------------------------ the tests

  @Test
  void shouldShowLiveMarketDataFromTheApi() {
    long epochBefore =
        service.get("/v1/markets", null).json().findValues("epoch").stream()
            .mapToLong(JsonNode::asLong)
            .max()
            .orElse(0);
    // the ticker: last clearing price, GPU-hours today, open demand, all as the API has them
    JsonNode candles = service.get("/v1/markets/" + H100 + "/candles?interval=1m", null).json();
    JsonNode last = candles.get("candles").get(candles.get("candles").size() - 1);
    Locator tick = page.locator(".tick[data-market='" + H100 + "']");
    assertThat(tick.locator(".px")).hasText(shown(last.get("close").asText()), text());
    assertThat(tick).hasAttribute("aria-pressed", "true");
    BigDecimal today = BigDecimal.ZERO;
    String midnight =
        LocalDate.now(ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant().toString();
    for (JsonNode c :
        service.get("/v1/markets/" + H100 + "/candles?interval=1h", null).json().get("candles")) {
      if (c.get("start").asText().compareTo(midnight) >= 0) {
        today = today.add(new BigDecimal(c.get("volumeGpuHours").asText()));
      }
    }
    assertThat(tick.locator(".gpuh"))
        .hasText(today.setScale(1, RoundingMode.HALF_UP).toPlainString(), text());
    // open demand as the market list has it (the seed's two open bids, and any left since)
    until(
        () ->
            tick.locator(".demand").textContent().equals(marketLine().get("openBidNodes").asText()),
        "the ticker's open demand is the market list's");

    // a new epoch arrives over the stream: a market skips epochs with nothing new to try, so a
    // bid below every reserve gives it one (it joins the open bids' BELOW_RESERVE reason)
    place(bidder, "nudge", bid(1, 1, 250, 260, "0.10"));
    waitFor("Number(document.querySelector('#epoch-no').textContent.slice(1)) > " + epochBefore);
    // both reasons of the open bids in the histogram
    waitFor(
        chartOption("chart-reasons")
            + ".series[0].data[0] >= 1 && "
            + chartOption("chart-reasons")
            + ".series[0].data[1] >= 1");

    // time and sales: every trade (the seed's three and any since), newest first
    JsonNode trades = trades();
    assertThat(page.locator("#tape tbody tr")).hasCount(trades.size());
    assertThat(page.locator("#tape tbody tr").first().locator("td").nth(1))
        .hasText(shown(trades.get(0).get("price").asText()), text());
    // the clearing record of the newest fill, from the epochs endpoint
    long newest = trades.get(0).get("epoch").asLong();
    JsonNode record = service.get("/v1/markets/" + H100 + "/epochs/" + newest, null).json();
    assertThat(page.locator("#epoch-record")).containsText("record #" + newest, contains());
    assertThat(page.locator("#epoch-record"))
        .containsText(
            "marginal bid " + shown(record.get("marginalLimitPrice").asText()), contains());

    // the ladder and the timeline
    JsonNode book = service.get("/v1/markets/" + H100 + "/book", null).json();
    assertThat(page.locator("#ladder-bids tbody tr")).hasCount(book.get("bids").size());
    assertThat(page.locator("#ladder-windows tbody tr")).hasCount(book.get("windows").size());
    // a lane per window of the capacity timeline (the seed's three, and any fed since)
    until(
        () ->
            ((Number)
                        eval(
                            "surplusBoard.charts()['chart-timeline']?.getOption()?.yAxis?.[0]"
                                + "?.data?.length ?? -1"))
                    .intValue()
                == service
                    .get("/v1/markets/" + H100 + "/windows", null)
                    .json()
                    .get("windows")
                    .size(),
        "a timeline lane per window the API has");
    screenshot("board-live.png");
  }

  @Test
  void shouldDrawTheDepthAndCandleChartsWithTheApisData() {
    waitFor(chartOption("chart-depth") + ".series.every(s => s.data.length >= 2)");
    JsonNode book = service.get("/v1/markets/" + H100 + "/book", null).json();
    // a bid level's limit and cumulative nodes are a point of the bids' curve
    JsonNode top = book.get("bids").get(0);
    assertEquals(
        Boolean.TRUE,
        eval(
            chartOption("chart-depth")
                + ".series[0].data.some(d => d[0] === "
                + top.get("limitPrice").asText()
                + " && d[1] === "
                + top.get("cumulativeNodes").asLong()
                + ")"));
    assertTrue(paintedPixels("chart-depth") > 2000, "the depth chart is drawn");

    // one far-out bid (a $99 limit in a $2 market, for more nodes than any window) does not
    // flatten the chart: the range stays around the clearing price, the outlier is named at the
    // edge
    String outlier = place(bidder, "outlier", bid(64, 5, 0, 240, "99.00"));
    assertThat(page.locator("#depth-outliers"))
        .containsText("off-chart → 1 level to 99.00", contains());
    waitFor(chartOption("chart-depth") + ".xAxis[0].max < 20");
    screenshot("board-depth-outlier.png");
    assertEquals(200, service.delete("/v1/bids/" + outlier, bidder).status());
    assertThat(page.locator("#depth-outliers")).not().containsText("99.00", contains());

    // the chart against the API's candles at that moment (a new minute may add one meanwhile)
    until(() -> candlesDrawn("1m") == candles("1m"), "the 1m candle chart has the API's candles");
    assertTrue(paintedPixels("chart-candles") > 2000, "the candle chart is drawn");

    page.click("#intervals button[data-interval='15m']");
    until(
        () -> candlesDrawn("15m") == candles("15m"), "the 15m candle chart has the API's candles");
    assertThat(page.locator("#intervals button[data-interval='15m']"))
        .hasClass(Pattern.compile(".*\\bon\\b.*"));
    page.locator(".area-candles")
        .screenshot(
            new Locator.ScreenshotOptions().setPath(screenshots.resolve("board-candles-15m.png")));
    page.click("#intervals button[data-interval='1m']");
    waitFor("surplusBoard.panels.candles.loadedInterval === '1m'");
  }

  @Test
  void shouldPlaceABidThroughTheTicketThatFillsThenCountDownToPreemptionWhenItsWindowIsRevoked() {
    page.fill("#ticket-key", trader);
    page.click("#key-form button[type=submit]");
    assertThat(page.locator("#account-line")).containsText("account #203", contains());

    page.selectOption("#bid-market", H100);
    // the ticket states the market's rules (GET /v1/markets) and holds a bid to them: this
    // service's 15 s slots, 672 of them ahead
    assertThat(page.locator("#bid-rules"))
        .containsText("15 s slots · up to 2 h 48 min ahead · tick 0.000001", contains());
    page.fill(
        "#bid-form [name=latestEnd]",
        java.time.Instant.now().plus(java.time.Duration.ofDays(8)).toString());
    assertThat(page.locator("#bid-cost")).containsText("beyond the horizon", contains());
    page.fill("#bid-form [name=nodes]", "3");
    page.fill("#bid-form [name=durationMinutes]", "5");
    page.fill("#bid-form [name=earliestStart]", at(330).toString());
    page.fill("#bid-form [name=latestEnd]", at(360).toString());
    page.fill("#bid-form [name=limitPrice]", "2.77");
    // the ticket's quote (POST /v1/bids/preview) says what the next epoch would do: wait
    assertThat(page.locator("#bid-quote"))
        .containsText("quote: stays open (no capacity in window)", contains());
    page.click("#place-bid");
    assertThat(page.locator("#bid-msg")).containsText("placed bid_203_", contains());
    String bidId = page.textContent("#bid-msg").replaceAll(".*placed (bid_203_\\d+).*", "$1");

    // open, with its reason, and in the book (ladder and depth curve)
    assertThat(page.locator("#open-bids tr[data-bid='" + bidId + "']"))
        .containsText("no capacity in window", contains());
    assertThat(page.locator("#ladder-bids tr[data-price='2.77']"))
        .hasClass(Pattern.compile(".*\\bmine\\b.*"));
    waitFor(chartOption("chart-depth") + ".series[0].data.some(d => d[0] === 2.77)");
    long placedAt = shownEpoch();
    screenshot("board-bid-open.png");

    // capacity appears where the bid wants it: it fills in a later epoch
    feed(window("w-d", "ash-h100-d", "us-east", 4, 320, 380, "1.00"));
    assertThat(page.locator("#activity")).containsText("filled " + bidId, contains());
    assertThat(page.locator("#open-bids tr[data-bid='" + bidId + "']")).hasCount(0);
    assertThat(page.locator("#leases tbody tr[data-lease]")).hasCount(1);
    JsonNode lease = service.get("/v1/leases", trader).json().get("leases").get(0);
    assertEquals(bidId, lease.get("bidId").asText());
    assertEquals("2.77", lease.get("price").asText());
    assertTrue(lease.get("epoch").asLong() > placedAt, lease + " after epoch " + placedAt);
    assertThat(page.locator("#leases tbody tr[data-lease='" + lease.get("id").asText() + "']"))
        .containsText("scheduled", contains());

    // its window revoked in an emergency: the ticket counts down to the lease's preemption
    feed(FeedTestLines.revoked(++feedSeq, "w-d", "emergency", Instant.now(), 4));
    assertThat(page.locator("#leases tr[data-lease]")).hasAttribute("data-status", "notified");
    Locator countdown = page.locator("#leases tr.notice-row .countdown");
    assertThat(countdown).containsText("preempt in", contains());
    lease =
        TestService.await(
                () -> service.get("/v1/leases", trader), r -> r.body().contains("preemptAt"))
            .json()
            .get("leases")
            .get(0);
    assertEquals(lease.get("preemptAt").asText(), countdown.getAttribute("data-deadline"));
    assertEquals(lease.get("id").asText(), page.getAttribute("#leases tr.notice-row", "data-for"));
    String before = countdown.textContent();
    assertTrue(before.matches("preempt in (\\d+:)?\\d\\d:\\d\\d"), before);
    page.waitForTimeout(2200);
    assertNotEquals(before, countdown.textContent(), "the countdown ticks");
    // the private notice reached the ticket; the public revocation is marked on the timeline
    assertThat(page.locator("#activity")).containsText("⚠ " + lease.get("id").asText(), contains());
    waitFor(
        "surplusBoard.panels.timeline.revocations.length === 1 && "
            + chartOption("chart-timeline")
            + ".series[0].markLine.data.length === 2");
    assertThat(page.locator("#timeline-kpis .kpi").last().locator("b")).hasText("1", text());
    screenshot("board-revocation.png");
  }

  @Test
  void shouldFitANarrowScreenWithoutSidewaysScrolling() {
    page.setViewportSize(390, 844);
    try {
      waitFor("surplusBoard.charts()['chart-candles'].getWidth() <= 390");
      assertEquals(
          Boolean.TRUE, eval("document.scrollingElement.scrollWidth <= window.innerWidth"));
      for (String panel :
          List.of(
              ".area-candles",
              ".area-depth",
              ".area-ticket",
              ".area-tape",
              ".area-epoch",
              ".area-timeline")) {
        assertThat(page.locator(panel)).isVisible();
      }
      screenshot("board-narrow.png");
    } finally {
      page.setViewportSize(1600, 1000);
    }
  }

  @Test
  void shouldReconnectAndShowANewEpochAfterTheServiceRestartsOnTheSamePort() {
    // a bidder's ticket open, with whatever leases the trader has by now
    page.fill("#ticket-key", trader);
    page.click("#key-form button[type=submit]");
    assertThat(page.locator("#account-line")).containsText("account #203", contains());
    int leases = service.get("/v1/leases", trader).json().get("leases").size();
    assertThat(page.locator("#leases tbody tr[data-lease]")).hasCount(leases);
    long epochBefore = shownEpoch();
    int opensBefore = Integer.parseInt(page.getAttribute("body", "data-opens"));
    outage = true;
    try {
      service.restartOnSamePort();
      waitFor(
          "Number(document.body.dataset.opens) > "
              + opensBefore
              + " && document.querySelector('#conn').dataset.state === 'live'"
              + " && Number(document.querySelector('#epoch-no').textContent.slice(1)) > "
              + epochBefore);
    } finally {
      outage = false;
    }
    // state refetched after the reconnect: the ticket's lease and the tape are back, still live
    assertThat(page.locator("#leases tbody tr[data-lease]")).hasCount(leases);
    assertThat(page.locator("#tape tbody tr")).hasCount(trades().size());
    long after = shownEpoch();
    waitFor("Number(document.querySelector('#epoch-no').textContent.slice(1)) > " + after);
    screenshot("board-after-restart.png");
  }

  @Test
  void shouldShowAProvidersStatementInTheProviderPanelAndNameABadDay() {
    // the panel's default days: the last 7, today included
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    JsonNode st =
        service
            .get(
                "/v1/provider/statement?from=" + today.minusDays(6) + "&to=" + today.plusDays(1),
                provider)
            .json();
    JsonNode totals = st.get("totals");
    assertTrue(totals.size() >= 3, st.toString()); // the seeded market's three pools
    page.fill("#provider-key", provider);
    page.click("#provider-key-form button[type=submit]");
    Locator rows = page.locator("#statement-totals tbody tr");
    assertThat(rows).hasCount(totals.size());
    for (int i = 0; i < totals.size(); i++) {
      JsonNode t = totals.get(i);
      Locator cells = rows.nth(i).locator("td");
      assertThat(cells.nth(0)).hasText(t.get("pool").asText() + " · " + H100, text());
      assertThat(cells.nth(1)).hasText(t.get("offeredNodeHours").asText(), text());
      assertThat(cells.nth(2)).hasText(t.get("soldNodeHours").asText(), text());
      assertThat(cells.nth(6)).hasText(t.get("revenue").asText(), text());
    }
    assertThat(page.locator("#statement-days tbody tr")).hasCount(st.get("days").size());
    page.locator("#provider-panel").scrollIntoViewIfNeeded();
    screenshot("board-provider-statement.png");

    // a day that is not one: the service's problem names the field, the panel marks it
    page.fill("#statement-form input[name=from]", "yesterday");
    refusedOnPurpose(400, () -> page.click("#statement-show"));
    assertThat(page.locator("#statement-msg")).containsText("from", contains());
    assertThat(page.locator("#statement-form input[name=from]"))
        .hasClass(java.util.regex.Pattern.compile("\\bbad\\b"));

    // a bidder's key reads no statement
    page.fill("#statement-form input[name=from]", today.minusDays(6).toString());
    page.fill("#provider-key", bidder);
    refusedOnPurpose(403, () -> page.click("#provider-key-form button[type=submit]"));
    assertThat(page.locator("#statement-msg")).hasText("this key is not a provider key", text());
    page.click("#provider-forget");
    assertThat(page.locator("#statement-totals tbody tr")).hasCount(0);
  }
}
