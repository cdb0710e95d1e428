package io.imsrc.query.http;

import io.imsrc.common.embed.Embedding;
import io.imsrc.common.embed.EmbeddingException;
import io.imsrc.common.embed.ModelDescription;
import io.imsrc.common.image.DecodedImage;
import io.imsrc.query.search.QueryEmbedder;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The query image of a search request, from the body to its embedding: exactly one image, within
 * the limits ({@link RequestImages}), preprocessed as the model wants it and embedded within the
 * request timeout (a model too busy to answer in time means 503 {@code overloaded}).
 *
 * <p>Thread-safe: every request thread uses it.
 *
 * @param timeout how long a query waits for the model
 */
record QueryImages(RequestImages images, ModelDescription model, QueryEmbedder embedder, Duration timeout) {

    /** The request's one image, read and checked but not yet decoded. */
    RequestImages.Received read(Context ctx) {
        List<RequestImages.Received> files = images.read(ctx);
        if (files.size() != 1) {
            throw ApiException.badRequest("too_many_files", "a search takes one image, got " + files.size());
        }
        return files.get(0);
    }

    DecodedImage decode(RequestImages.Received received) {
        return images.decode(received);
    }

    Embedding embed(DecodedImage image) throws EmbeddingException, InterruptedException {
        try {
            return embedder.embed(model.preprocess(image), timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ApiException(503, "overloaded", "the model could not embed the query within "
                    + timeout.toSeconds() + " s; the server is too busy, try again");
        }
    }
}
