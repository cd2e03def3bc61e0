package io.surplus.market.readside;

import com.typesafe.config.Config;
import java.util.regex.Pattern;

/**
 * The read side's configuration, from {@code surplus.read-side} ({@code readside.conf}); each key
 * may be overridden by an environment variable there.
 *
 * @param keyspace keyspace of the read-side tables, the schema history and the projection offsets
 * @param replication CQL replication map used when the migrator creates the keyspace
 * @param sessionConfigPath the pekko-connectors session config the read side uses
 * @param projectionName the projection's name; its key is the tag it follows
 * @param cursorSecret the secret that signs page cursors; empty: the one kept in the keyspace
 */
public record ReadSideSettings(
    String keyspace,
    String replication,
    String sessionConfigPath,
    String projectionName,
    String cursorSecret) {

  /** Keyspace of the read-side tables (env {@code SURPLUS_READ_KEYSPACE}). */
  public static final String KEYSPACE = "surplus.read-side.keyspace";

  public static final String DEFAULT_KEYSPACE = "surplus_read";

  /** Replication of a keyspace the migrator creates (env {@code SURPLUS_READ_REPLICATION}). */
  public static final String REPLICATION = "surplus.read-side.replication";

  public static final String DEFAULT_REPLICATION =
      "{'class':'SimpleStrategy','replication_factor':1}";

  /** Session config path: the projection's own session, so offsets and rows share one. */
  public static final String SESSION_CONFIG_PATH = "surplus.read-side.session-config-path";

  public static final String DEFAULT_SESSION_CONFIG_PATH =
      "pekko.projection.cassandra.session-config";

  /** Name of the projection, the first half of its {@code ProjectionId}. */
  public static final String PROJECTION_NAME = "surplus.read-side.projection-name";

  public static final String DEFAULT_PROJECTION_NAME = "read-side";

  /**
   * Secret (at least 16 characters) that signs page cursors (env {@code SURPLUS_CURSOR_SECRET});
   * every node must have the same. Empty: a random one made once and kept in the keyspace.
   */
  public static final String CURSOR_SECRET = "surplus.read-side.cursor-secret";

  public static final String DEFAULT_CURSOR_SECRET = "";

  /** Shortest configured cursor secret. */
  public static final int MIN_CURSOR_SECRET = 16;

  /** A keyspace name is spliced into CQL, so it must be a plain identifier. */
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,47}");

  public ReadSideSettings {
    if (keyspace == null || !IDENTIFIER.matcher(keyspace).matches()) {
      throw new IllegalArgumentException(
          "keyspace must be a letter then up to 47 letters, digits or '_': keyspace=" + keyspace);
    }
    if (replication == null
        || !replication.strip().startsWith("{")
        || !replication.strip().endsWith("}")) {
      throw new IllegalArgumentException(
          "replication must be a CQL map such as "
              + DEFAULT_REPLICATION
              + ": replication="
              + replication);
    }
    if (cursorSecret == null
        || !cursorSecret.isEmpty() && cursorSecret.length() < MIN_CURSOR_SECRET) {
      throw new IllegalArgumentException(
          "cursorSecret must be empty or at least "
              + MIN_CURSOR_SECRET
              + " characters: length="
              + (cursorSecret == null ? 0 : cursorSecret.length()));
    }
  }

  public static ReadSideSettings defaults() {
    return new ReadSideSettings(
        DEFAULT_KEYSPACE,
        DEFAULT_REPLICATION,
        DEFAULT_SESSION_CONFIG_PATH,
        DEFAULT_PROJECTION_NAME,
        DEFAULT_CURSOR_SECRET);
  }

  /** Reads the settings, taking the default of any key that is absent. */
  public static ReadSideSettings from(Config config) {
    return new ReadSideSettings(
        string(config, KEYSPACE, DEFAULT_KEYSPACE),
        string(config, REPLICATION, DEFAULT_REPLICATION),
        string(config, SESSION_CONFIG_PATH, DEFAULT_SESSION_CONFIG_PATH),
        string(config, PROJECTION_NAME, DEFAULT_PROJECTION_NAME),
        string(config, CURSOR_SECRET, DEFAULT_CURSOR_SECRET));
  }

  /** Without the cursor secret, which never goes to a log. */
  @Override
  public String toString() {
    return "ReadSideSettings[keyspace="
        + keyspace
        + ", replication="
        + replication
        + ", sessionConfigPath="
        + sessionConfigPath
        + ", projectionName="
        + projectionName
        + ", cursorSecret="
        + (cursorSecret.isEmpty() ? "(kept in the keyspace)" : "(configured)")
        + "]";
  }

  public ReadSideSettings withKeyspace(String newKeyspace) {
    return new ReadSideSettings(
        newKeyspace, replication, sessionConfigPath, projectionName, cursorSecret);
  }

  private static String string(Config config, String path, String fallback) {
    return config.hasPath(path) ? config.getString(path) : fallback;
  }
}
