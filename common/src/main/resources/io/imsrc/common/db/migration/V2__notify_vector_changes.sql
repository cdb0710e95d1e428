-- imsrc schema, version 2: notifications for the query server's index manager.
-- It keeps its FAISS index in step with PostgreSQL by LISTENing on these channels (polling by
-- watermark is its fallback). Statement-level triggers: the ingest job writes vectors a batch per
-- statement, so one notification per batch, delivered when the writing transaction commits.

CREATE FUNCTION imsrc_notify_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('imsrc_vectors', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER vectors_notify
    AFTER INSERT ON vectors
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_notify_vectors();

CREATE FUNCTION imsrc_notify_prototypes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('imsrc_prototypes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER prototypes_notify
    AFTER INSERT OR UPDATE ON _category_prototypes
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_notify_prototypes();
