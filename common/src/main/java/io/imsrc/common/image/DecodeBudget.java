package io.imsrc.common.image;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An allowance of pixels being decoded at once, so that many requests and uploads decoding large
 * images together cannot exhaust the heap between them. Each image alone is bounded by
 * MAX_IMAGE_PIXELS; this bounds their sum.
 *
 * <p>A decode takes a {@link Permit} for its image's pixels before the decoder allocates the raster
 * and returns it when the pixels have been converted; the decoder's working memory is about 4 to 11
 * bytes per pixel (the reader's raster plus the RGB copy), so the budget in pixels is a budget of
 * heap. An image larger than the whole budget takes all of it, so it waits until nothing else is
 * decoding and then decodes alone. Waiters are served in arrival order: a large image is not
 * starved by a stream of small ones.
 *
 * <p>{@link #shared()} is the one budget of this process, used by default by every decode (the
 * query server's requests and, in the same JVM, the ingest job's), so the limit holds however many
 * components decode. Thread-safe.
 */
public final class DecodeBudget {

    /**
     * 48 megapixels: one image at the default MAX_IMAGE_PIXELS and some smaller ones beside it, at
     * most about half a gigabyte of decoder memory.
     */
    public static final long DEFAULT_PIXELS = 48_000_000L;

    private static final DecodeBudget SHARED = new DecodeBudget(DEFAULT_PIXELS);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Deque<Object> waiting = new ArrayDeque<>(); // guarded by lock
    private long capacity; // guarded by lock
    private long inUse; // guarded by lock

    public DecodeBudget(long capacity) {
        this.capacity = checkCapacity(capacity);
    }

    /** The budget of this process. */
    public static DecodeBudget shared() {
        return SHARED;
    }

    /**
     * Changes the capacity; permits already taken stay valid (the budget may be over its new
     * capacity until they are returned).
     */
    public void setCapacity(long newCapacity) {
        checkCapacity(newCapacity);
        lock.lock();
        try {
            capacity = newCapacity;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public long capacity() {
        lock.lock();
        try {
            return capacity;
        } finally {
            lock.unlock();
        }
    }

    /** Pixels being decoded now. */
    public long inUse() {
        lock.lock();
        try {
            return inUse;
        } finally {
            lock.unlock();
        }
    }

    /** Decodes waiting for room now. */
    int waiters() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes {@code pixels} (at most the whole capacity), waiting up to {@code wait} for them.
     *
     * @throws DecodeBusyException when they did not become free in time, or the thread was
     *     interrupted while waiting (its interrupt flag is set again)
     */
    public Permit acquire(long pixels, Duration wait) {
        if (pixels < 0) {
            throw new IllegalArgumentException("pixels must not be negative, got " + pixels);
        }
        long deadline = System.nanoTime() + Math.max(0, saturatedNanos(wait));
        Object ticket = new Object();
        lock.lock();
        try {
            waiting.addLast(ticket);
            try {
                while (true) {
                    long wanted = Math.min(pixels, capacity);
                    if (waiting.peekFirst() == ticket && inUse + wanted <= capacity) {
                        inUse += wanted;
                        return new Permit(wanted);
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new DecodeBusyException(pixels, inUse, capacity, wait);
                    }
                    changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DecodeBusyException(pixels, inUse, capacity, wait);
            } finally {
                waiting.remove(ticket);
                changed.signalAll(); // the next in line may fit now
            }
        } finally {
            lock.unlock();
        }
    }

    private void release(long pixels) {
        lock.lock();
        try {
            inUse -= pixels;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static long checkCapacity(long capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the decode budget must be at least 1 pixel, got " + capacity);
        }
        return capacity;
    }

    /** The wait in nanoseconds, at most about 146 years so that a deadline cannot overflow. */
    private static long saturatedNanos(Duration wait) {
        try {
            return Math.min(wait.toNanos(), Long.MAX_VALUE / 2);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;
        }
    }

    /** Pixels taken from the budget; {@link #close} gives them back, once. */
    public final class Permit implements AutoCloseable {
        private final long pixels;
        private boolean closed; // guarded by this

        private Permit(long pixels) {
            this.pixels = pixels;
        }

        public long pixels() {
            return pixels;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            release(pixels);
        }
    }
}
