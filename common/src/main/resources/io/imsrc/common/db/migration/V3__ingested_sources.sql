-- imsrc schema, version 3: the bulk sources ingested to the end, per model.
-- `imsrc start` reads a source only when it has no row here, so a second start does not read
-- CIFAR-10 again. A row is written only once every image the source held is durably in PostgreSQL
-- (the source finished and a checkpoint completed after it), so a stop half way leaves no row and
-- the next start reads the source again; the job's deduplication stores nothing twice.

CREATE TABLE ingested_sources (
    source        text        NOT NULL, -- location#root as given, with its limit: "…#train limit 100"
    model_id      text        NOT NULL,
    images_read   bigint      NOT NULL, -- images the source held (what the job read, not what was new)
    completed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, model_id)
);
