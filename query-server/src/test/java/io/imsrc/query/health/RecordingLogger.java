package io.imsrc.query.health;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * A logger that keeps what it is given, so a test can count what a worker logs at which level. A
 * hand-written stand-in for the logging back end, which has no API to read its output back.
 */
class RecordingLogger extends LegacyAbstractLogger {

    record Entry(Level level, String message, Throwable thrown) {}

    private final List<Entry> entries = new ArrayList<>();

    synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    synchronized List<Entry> at(Level level) {
        return entries.stream().filter(e -> e.level() == level).toList();
    }

    @Override
    protected synchronized void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
            Throwable throwable) {
        entries.add(new Entry(level, MessageFormatter.basicArrayFormat(pattern, arguments), throwable));
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    public String getName() {
        return "recording";
    }

    @Override
    public boolean isTraceEnabled() {
        return true;
    }

    @Override
    public boolean isDebugEnabled() {
        return true;
    }

    @Override
    public boolean isInfoEnabled() {
        return true;
    }

    @Override
    public boolean isWarnEnabled() {
        return true;
    }

    @Override
    public boolean isErrorEnabled() {
        return true;
    }
}
