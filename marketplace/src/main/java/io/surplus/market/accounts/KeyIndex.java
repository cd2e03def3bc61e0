package io.surplus.market.accounts;

import com.datastax.oss.driver.api.core.ConsistencyLevel;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.cassandra.query.javadsl.CassandraReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Which account each issued API key belongs to, by the key's SHA-256, in the read side's keyspace
 * ({@code api_keys}). The front looks a key up here before it asks the account's entity: a key that
 * was never issued (a guess, a key naming an account that does not exist, a wrong secret for one
 * that does) costs one point read and gets the same 401, and starts no entity and reads no journal.
 * The entity stays the authority on a key that is found.
 *
 * <p>A key is registered before the entity that holds it is created, so it is in the index by the
 * time anybody holds it; a registration whose creation then fails names a key nobody was given.
 * Reads and writes are {@code LOCAL_QUORUM}, so every node of a cluster sees a key as soon as its
 * creation has answered.
 */
public final class KeyIndex {

  /** Switches the start-up pass that indexes the keys of accounts made before the index. */
  public static final String BACKFILL_KEY = "surplus.auth.backfill-key-index";

  private static final ConsistencyLevel CONSISTENCY = ConsistencyLevel.LOCAL_QUORUM;

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement select;
  private final Duration timeout;

  /** {@code timeout}: how long a read or write waits, so a request still answers in time. */
  public KeyIndex(CqlSession session, String keyspace, Duration timeout) {
    this.session = session;
    this.timeout = timeout;
    this.insert =
        session.prepare("INSERT INTO " + keyspace + ".api_keys (key_hash, account) VALUES (?, ?)");
    this.select =
        session.prepare("SELECT account FROM " + keyspace + ".api_keys WHERE key_hash = ?");
  }

  /** Records that the key with SHA-256 {@code keyHash} belongs to {@code account}. */
  public CompletionStage<Done> register(String keyHash, long account) {
    return session
        .executeAsync(
            insert
                .bind(keyHash, account)
                .setConsistencyLevel(CONSISTENCY)
                .setIdempotent(true)
                .setTimeout(timeout))
        .thenApply(rs -> Done.getInstance());
  }

  /** The account the key with SHA-256 {@code keyHash} was issued for, or -1 if none. */
  public CompletionStage<Long> accountOf(String keyHash) {
    return session
        .executeAsync(
            select
                .bind(keyHash)
                .setConsistencyLevel(CONSISTENCY)
                .setIdempotent(true)
                .setTimeout(timeout))
        .thenApply(
            rs -> {
              Row row = rs.one();
              return row == null ? -1L : row.getLong("account");
            });
  }

  /**
   * Indexes the key of every account in the journal (from its {@code AccountCreated}, always its
   * first event): accounts made before the index existed. Idempotent; completes with how many
   * accounts it saw. Reads one event per account, so run it in the background.
   */
  public CompletionStage<Integer> backfill(ActorSystem<?> system) {
    CassandraReadJournal journal =
        PersistenceQuery.get(system.classicSystem())
            .getReadJournalFor(CassandraReadJournal.class, CassandraReadJournal.Identifier());
    String prefix = Account.ENTITY_KEY.name() + "|";
    return journal
        .currentPersistenceIds()
        .filter(id -> id.startsWith(prefix))
        .mapAsyncUnordered(
            4,
            id ->
                journal
                    .currentEventsByPersistenceId(id, 1, 1)
                    .runWith(Sink.headOption(), system)
                    .thenCompose(
                        first ->
                            first.isPresent()
                                    && first.get().event() instanceof Account.AccountCreated c
                                ? register(c.keyHash(), c.id()).thenApply(d -> 1)
                                : java.util.concurrent.CompletableFuture.completedFuture(0)))
        .runWith(Sink.fold(0, Integer::sum), system);
  }
}
