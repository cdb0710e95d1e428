package io.imsrc.query.index;

/**
 * The image ids a generation holds: an open-addressing hash set of primitive longs.
 *
 * <p>Why not a {@code ConcurrentHashMap.newKeySet()}: it costs about 60 bytes per id (a node and a
 * boxed Long), 60 MB at a million vectors, more than a quarter of the 64-d vectors themselves;
 * this one costs 16-32 bytes per id (8 per slot at a load of 0.5 or less) and allocates nothing per add.
 *
 * <p>Ids are positive (images.image_id has CHECK image_id &gt; 0), so 0 marks a free slot. Ids are
 * the first 8 bytes of a SHA-256, already uniformly spread; the mixer only guards against ids
 * that are not.
 *
 * <p>Thread-safe: adds come from the index manager's one refresh (or build) thread, lookups from
 * request threads; both take the monitor, which costs tens of nanoseconds uncontended.
 */
final class IdSet {

    private static final int MIN_CAPACITY = 1024;

    private long[] slots;
    private int size;

    /** A set sized for about {@code expected} ids before it grows. */
    IdSet(long expected) {
        slots = new long[tableSize(expected)];
    }

    /** Adds {@code id}; false when it was held already. */
    synchronized boolean add(long id) {
        requirePositive(id);
        if (2L * (size + 1) > slots.length) {
            grow();
        }
        if (!insert(slots, id)) {
            return false;
        }
        size++;
        return true;
    }

    synchronized boolean contains(long id) {
        if (id <= 0) {
            return false;
        }
        int mask = slots.length - 1;
        for (int i = slot(id, mask); ; i = (i + 1) & mask) {
            long held = slots[i];
            if (held == id) {
                return true;
            }
            if (held == 0) {
                return false;
            }
        }
    }

    synchronized int size() {
        return size;
    }

    /** The ids, in no particular order. */
    synchronized long[] toArray() {
        long[] out = new long[size];
        int n = 0;
        for (long id : slots) {
            if (id != 0) {
                out[n++] = id;
            }
        }
        return out;
    }

    private void grow() {
        long[] bigger = new long[slots.length * 2];
        for (long id : slots) {
            if (id != 0) {
                insert(bigger, id);
            }
        }
        slots = bigger;
    }

    private static boolean insert(long[] table, long id) {
        int mask = table.length - 1;
        for (int i = slot(id, mask); ; i = (i + 1) & mask) {
            long held = table[i];
            if (held == id) {
                return false;
            }
            if (held == 0) {
                table[i] = id;
                return true;
            }
        }
    }

    private static int slot(long id, int mask) {
        long h = id * 0x9E3779B97F4A7C15L; // Fibonacci hashing: the high bits are well mixed
        return (int) (h >>> 32) & mask;
    }

    private static int tableSize(long expected) {
        long wanted = Math.max(MIN_CAPACITY, 2 * Math.max(0, expected));
        if (wanted > 1 << 30) {
            throw new IllegalArgumentException("too many ids for one set: " + expected);
        }
        return Integer.highestOneBit((int) wanted - 1) << 1;
    }

    private static void requirePositive(long id) {
        if (id <= 0) {
            throw new IllegalArgumentException("image ids are positive, got " + id);
        }
    }

    @Override
    public synchronized String toString() {
        return "IdSet[size=" + size + ", capacity=" + slots.length + "]";
    }
}
