package io.imsrc.launcher.job;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The one thread each of the launcher's pollers (source completion, the console's progress) runs
 * on: a daemon, so that a poller its owner forgot to close never keeps the JVM from exiting.
 */
public final class DaemonScheduler {

    private DaemonScheduler() {}

    /** A single-thread scheduler whose thread is a daemon called {@code threadName}. */
    public static ScheduledExecutorService create(String threadName) {
        return Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }
}
