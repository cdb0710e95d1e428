-- imsrc schema, version 4: when Kafka took an upload.
-- The query server records an upload as queued, publishes it to Kafka, and sets published_at once
-- Kafka has acknowledged it. A queued upload still without published_at after
-- UPLOAD_PUBLISH_DEADLINE_MS was lost between the two (the server stopped, or Kafka and PostgreSQL
-- failed at once): its bytes were only in that server's memory, so it is marked rejected
-- (NOT_PUBLISHED). One published but not yet stored after UPLOAD_INGEST_DEADLINE_MS is marked
-- rejected too (NOT_INGESTED). Should the job store either after all, its write makes it indexed.

ALTER TABLE uploads ADD COLUMN published_at timestamptz;

-- Before this version a queued row whose record Kafka refused was deleted again, so the queued
-- rows there are were published (or lost in a crash, which the ingest deadline covers).
UPDATE uploads SET published_at = updated_at WHERE state = 'queued';
