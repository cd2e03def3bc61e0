package io.surplus.engine.book;

import io.surplus.engine.Lease;
import io.surplus.engine.RevocationKind;

/**
 * A lease cut by a revocation: it is notified at once and preempted at {@code preemptAtMillis}.
 *
 * @param lease the lease as it was before the cut
 * @param noticeShortfallSeconds notice promised by the window but not given (emergency only); the
 *     bidder is not charged for it
 * @param requeued whether the bid went back into the book for the time it lost
 */
public record Cut(
    Lease lease,
    long preemptAtMillis,
    RevocationKind kind,
    long noticeShortfallSeconds,
    boolean requeued) {}
