package io.imsrc.query.index;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which vector sequence numbers below the watermark may still show up. PostgreSQL hands out
 * vectors.vector_seq when a row is inserted, not when it commits, so with several writers a row
 * with a lower number can commit after one with a higher number that the index already holds.
 * Reading only "above the watermark" would lose it for good (docs/design.md, "vector_seq and late
 * commits"). So every number skipped between rows read becomes a hole, re-read on every refresh
 * until it appears or grows too old to be a transaction still in flight (then it was rolled back,
 * or belongs to another model).
 *
 * <p>Gaps wider than {@code maxGap} are not tracked number by number: no writer of this model has
 * that many rows in flight, so such a gap is another model's vectors.
 *
 * <p>Not thread-safe: owned by the index manager's refresh thread.
 */
final class HoleTracker {

    private final long timeoutMillis;
    private final long maxGap;
    private final TreeMap<Long, Long> holes = new TreeMap<>();

    HoleTracker(long timeoutMillis, long maxGap) {
        this.timeoutMillis = timeoutMillis;
        this.maxGap = maxGap;
    }

    /**
     * Notes rows read: a number that was a hole is filled; numbers skipped between {@code
     * watermark} and the rows above it become holes.
     *
     * @param watermark the highest number held before these rows
     * @param seqs the rows' numbers, ascending
     */
    void read(long watermark, long[] seqs, long nowMillis) {
        long previous = watermark;
        for (long seq : seqs) {
            holes.remove(seq);
            if (seq <= previous) {
                continue;
            }
            if (seq - previous - 1 <= maxGap) {
                for (long missing = previous + 1; missing < seq; missing++) {
                    holes.put(missing, nowMillis);
                }
            }
            previous = seq;
        }
    }

    /** The holes to re-read, after dropping those older than the timeout. */
    long[] pending(long nowMillis) {
        for (Iterator<Map.Entry<Long, Long>> it = holes.entrySet().iterator(); it.hasNext(); ) {
            if (nowMillis - it.next().getValue() > timeoutMillis) {
                it.remove();
            }
        }
        return holes.keySet().stream().mapToLong(Long::longValue).toArray();
    }

    int size() {
        return holes.size();
    }
}
