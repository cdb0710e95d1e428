package io.imsrc.ingest.record;

import java.time.Instant;

/**
 * What PostgreSQL accepts of the values the job writes, as pure functions: the sources refuse a
 * record that breaks these rules (a dead letter), and the sinks apply them once more to every text
 * and time they write, so that no value can fail a statement. A failed statement would fail the
 * job, and its replay would fail again: a restart loop on one bad record.
 *
 * <ul>
 *   <li>PostgreSQL's text cannot hold the NUL character (a statement with one fails with "invalid
 *       byte sequence for encoding UTF8: 0x00"); the sinks write U+FFFD in its place.
 *   <li>Times are milliseconds since the epoch in [{@link #EARLIEST_MILLIS}, {@link
 *       #LATEST_MILLIS}]: 1970 to the end of year 9999. PostgreSQL's timestamptz ends in 294276
 *       and Java's Instant later still, but a time outside this range comes from no clock imsrc
 *       runs on, and four-digit years print alike in ISO 8601 everywhere.
 *   <li>Texts written to dead letters are cut to {@link #MAX_TEXT_CHARS} characters, so a record
 *       that is refused for its size is not stored whole after all.
 * </ul>
 */
public final class StorableValues {

    /** 1970-01-01T00:00:00Z. */
    public static final long EARLIEST_MILLIS = 0;

    /** 9999-12-31T23:59:59.999Z. */
    public static final long LATEST_MILLIS = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();

    /** The longest text a dead letter keeps of a name, key or detail. */
    public static final int MAX_TEXT_CHARS = 4096;

    private static final char NUL = '\0';
    private static final char REPLACEMENT = '\uFFFD';

    private StorableValues() {}

    /** Whether a time is within the range imsrc stores. */
    public static boolean storableMillis(long millis) {
        return millis >= EARLIEST_MILLIS && millis <= LATEST_MILLIS;
    }

    /** The nearest storable time. */
    public static long clampMillis(long millis) {
        return Math.max(EARLIEST_MILLIS, Math.min(LATEST_MILLIS, millis));
    }

    /** Whether a text holds a NUL character, which PostgreSQL's text cannot store. */
    public static boolean hasNul(String text) {
        return text != null && text.indexOf(NUL) >= 0;
    }

    /** {@code text} with U+FFFD for each NUL; {@code null} stays {@code null}. */
    public static String text(String text) {
        return hasNul(text) ? text.replace(NUL, REPLACEMENT) : text;
    }

    /**
     * {@code text} with U+FFFD for each NUL, cut to {@code maxChars} characters (ending in "..."
     * when cut, and never between the two halves of a surrogate pair).
     */
    public static String text(String text, int maxChars) {
        if (maxChars < 4) {
            throw new IllegalArgumentException("keep at least 4 characters, got " + maxChars);
        }
        String clean = text(text);
        if (clean == null || clean.length() <= maxChars) {
            return clean;
        }
        int end = maxChars - 3;
        if (Character.isHighSurrogate(clean.charAt(end - 1))) {
            end--;
        }
        return clean.substring(0, end) + "...";
    }
}
