package io.imsrc.ingest.source.bulk.enumerator;

import io.imsrc.ingest.source.bulk.BulkPlanner;
import io.imsrc.ingest.source.bulk.ResolvedBulkSource;
import io.imsrc.ingest.source.bulk.split.BulkSplit;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands out a bulk source's splits to readers as they ask, one at a time, so fast readers take
 * more. A bounded source starts with the planned splits and tells each reader there are no more
 * once they are gone. A watched folder is scanned every interval, off the coordinator thread, and
 * its new files become new splits for the readers that wait.
 *
 * <p>Runs in the JobManager's coordinator thread; the scan runs in the coordinator's worker thread
 * and hands its result back through {@link SplitEnumeratorContext#callAsync}.
 */
public final class BulkSplitEnumerator implements SplitEnumerator<BulkSplit, BulkEnumeratorState> {

    private static final Logger LOG = LoggerFactory.getLogger(BulkSplitEnumerator.class);

    private final SplitEnumeratorContext<BulkSplit> context;
    private final ResolvedBulkSource source;
    private final long watchIntervalMs;
    private final long settleMs;
    private final Deque<BulkSplit> pending;
    private final Set<String> seenFiles;
    private final Set<Integer> waitingReaders = new LinkedHashSet<>();
    private int scans;
    /** Set by a scan that found files, cleared once they are pending: a scan never overlaps its predecessor's result. */
    private volatile boolean scanResultPending;

    public BulkSplitEnumerator(
            SplitEnumeratorContext<BulkSplit> context,
            ResolvedBulkSource source,
            long watchIntervalMs,
            long settleMs,
            BulkEnumeratorState state) {
        this.context = context;
        this.source = source;
        this.watchIntervalMs = watchIntervalMs;
        this.settleMs = settleMs;
        this.pending = new ArrayDeque<>(state.pending());
        this.seenFiles = new HashSet<>(state.seenFiles());
        this.scans = state.scans();
    }

    @Override
    public void start() {
        if (source.watch()) {
            context.callAsync(this::scan, this::addScanned, 0, watchIntervalMs);
        }
    }

    /** Runs in the worker thread: lists the folder for files not seen yet. */
    private List<BulkSplit> scan() throws IOException {
        if (scanResultPending) {
            return List.of();
        }
        Set<String> seen;
        int scan;
        synchronized (this) {
            seen = Set.copyOf(seenFiles);
            scan = scans;
        }
        List<BulkSplit> splits =
                BulkPlanner.scanFolder(source, seen, System.currentTimeMillis() - settleMs, "watch-" + scan + "-");
        scanResultPending = !splits.isEmpty();
        return splits;
    }

    /** Runs in the coordinator thread. */
    private void addScanned(List<BulkSplit> splits, Throwable failure) {
        if (failure != null) {
            // A folder that is briefly unreadable (unmounted, renamed) must not fail the job.
            LOG.warn("Scanning the watched folder {} failed; trying again in {} ms", source.name(), watchIntervalMs, failure);
            return;
        }
        if (splits.isEmpty()) {
            return;
        }
        long files = 0;
        synchronized (this) {
            scans++;
            for (BulkSplit split : splits) {
                seenFiles.addAll(split.files());
                files += split.files().size();
            }
        }
        LOG.info("Found {} new files in {}", files, source.name());
        pending.addAll(splits);
        scanResultPending = false;
        assignToWaiting();
    }

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {
        waitingReaders.add(subtaskId);
        assignToWaiting();
    }

    private void assignToWaiting() {
        for (var it = waitingReaders.iterator(); it.hasNext(); ) {
            int reader = it.next();
            if (!context.registeredReaders().containsKey(reader)) {
                it.remove();
                continue;
            }
            BulkSplit split = pending.poll();
            if (split != null) {
                context.assignSplit(split, reader);
                it.remove();
            } else if (!source.watch()) {
                context.signalNoMoreSplits(reader);
                it.remove();
            } else {
                return; // waits for the next scan
            }
        }
    }

    @Override
    public void addSplitsBack(List<BulkSplit> splits, int subtaskId) {
        // A failed reader's splits, at the positions of the last checkpoint: first in line again.
        List<BulkSplit> back = new ArrayList<>(splits);
        for (int i = back.size() - 1; i >= 0; i--) {
            pending.addFirst(back.get(i));
        }
        assignToWaiting();
    }

    @Override
    public void addReader(int subtaskId) {
        // Readers ask for splits themselves.
    }

    @Override
    public synchronized BulkEnumeratorState snapshotState(long checkpointId) {
        return new BulkEnumeratorState(List.copyOf(pending), seenFiles, scans);
    }

    @Override
    public void close() {}
}
