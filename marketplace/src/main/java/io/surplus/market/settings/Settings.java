package io.surplus.market.settings;

import com.typesafe.config.Config;
import io.surplus.engine.GpuModel;
import io.surplus.engine.PricingRule;
import io.surplus.engine.SlotClock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The service's settings, read from the {@code surplus} section of the configuration (environment
 * variables override {@code application.conf}; see there for each key and its default).
 *
 * @param markets GPU model name to GPUs per node: one market each, in display order
 * @param regions region names; a region's id is its index (the engine's region bit)
 */
public record Settings(
    String httpHost,
    int httpPort,
    SlotClock clock,
    PricingRule pricing,
    Duration epochInterval,
    Duration askTimeout,
    Map<String, Integer> markets,
    List<String> regions,
    int maxBatchBids,
    Duration billingInterval,
    Duration pendingGrace) {

  public static Settings from(Config root) {
    Config c = root.getConfig("surplus");
    Map<String, Integer> markets = new LinkedHashMap<>();
    for (Config m : c.getConfigList("markets")) {
      String model = new GpuModel(m.getString("gpu-model")).name();
      markets.put(model, m.getInt("gpus-per-node"));
    }
    return new Settings(
        c.getString("http.host"),
        c.getInt("http.port"),
        new SlotClock(c.getInt("slot-seconds"), c.getInt("horizon-slots")),
        PricingRule.valueOf(c.getString("pricing")),
        c.getDuration("epoch-interval"),
        c.getDuration("ask-timeout"),
        java.util.Collections.unmodifiableMap(markets),
        List.copyOf(c.getStringList("regions")),
        c.getInt("max-batch-bids"),
        c.getDuration("billing-interval"),
        c.getDuration("pending-grace"));
  }

  public boolean hasMarket(String model) {
    return markets.containsKey(model);
  }

  public int gpusPerNode(String model) {
    return markets.get(model);
  }
}
