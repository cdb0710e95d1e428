package io.imsrc.common.io;

import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/** What a failed {@code Future.get} threw, for callers that want the failure of the task itself. */
public final class Futures {

    private Futures() {}

    /** The task's own failure: the cause of {@code e}, or {@code e} itself when it has none. */
    public static Throwable cause(ExecutionException e) {
        return e.getCause() == null ? e : e.getCause();
    }

    /**
     * The task's failure as the caller's checked exception: a {@code RuntimeException} is rethrown
     * as it is, one of {@code type} is returned as it is, anything else is wrapped by {@code wrap}.
     * Use as {@code throw Futures.failure(e, X.class, cause -> new X(..., cause))}.
     */
    public static <X extends Exception> X failure(ExecutionException e, Class<X> type, Function<Throwable, X> wrap) {
        Throwable cause = cause(e);
        if (cause instanceof RuntimeException unchecked) {
            throw unchecked;
        }
        return type.isInstance(cause) ? type.cast(cause) : wrap.apply(cause);
    }
}
