package io.imsrc.embedded;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One embedded Kafka broker per JVM, shared by the integration tests that need one: started on
 * first use, stopped by a shutdown hook. Tests that share it work in topics of their own ({@link
 * #newTopic}).
 */
public final class SharedKafka {

    private static final SharedInstance<EmbeddedKafkaBroker> BROKER =
            new SharedInstance<>("shared-kafka", () -> EmbeddedKafkaBroker.start(EmbeddedKafkaBroker.Options.defaults()));
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private SharedKafka() {}

    public static EmbeddedKafkaBroker get() {
        return BROKER.get();
    }

    /** A new topic on the shared broker, named {@code prefix} plus a counter. */
    public static String newTopic(String prefix, int partitions) {
        String name = prefix + "-" + COUNTER.incrementAndGet();
        get().createTopic(name, partitions);
        return name;
    }
}
