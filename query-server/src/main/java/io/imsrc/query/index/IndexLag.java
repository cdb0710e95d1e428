package io.imsrc.query.index;

import io.imsrc.query.store.VectorStore;
import java.sql.SQLException;
import java.util.Optional;

/**
 * How far the searchable index trails PostgreSQL: the commit time of the newest vector minus that
 * of the newest searchable one. /status reports it and the metrics gauge reads it when scraped.
 */
public record IndexLag(IndexManager index, VectorStore store) {

    /** The lag now, reading PostgreSQL; NaN when it cannot be known (no index yet, PostgreSQL away). */
    public double seconds() {
        IndexManager.Status s = index.status();
        if (!s.ready()) {
            return Double.NaN;
        }
        try {
            return seconds(store.newest(), s);
        } catch (SQLException e) {
            return Double.NaN;
        }
    }

    /** The lag between {@code newest} in PostgreSQL and the index's {@code status}; 0 when caught up. */
    public static double seconds(Optional<VectorStore.Newest> newest, IndexManager.Status status) {
        if (newest.isEmpty() || newest.get().seq() <= status.newestSearchableSeq()) {
            return 0;
        }
        return Math.max(0, newest.get().createdAtMillis() - status.newestSearchableCreatedAtMillis()) / 1000.0;
    }
}
