-- imsrc schema, version 5: counts kept up to date by triggers, so that GET /status and
-- GET /categories read a few rows per category instead of counting every image per request.
--
-- catalog_counts holds count deltas: every statement that inserts, updates or deletes images,
-- vectors, uploads or dead_letters appends one row per key its change touched (a category, a
-- category and model, an upload state), and nothing ever updates a row. Writers running at once
-- (the job's sink subtasks, query servers, users' SQL) therefore never wait on one another here.
-- A count is the sum of its key's rows. imsrc_compact_counts() below folds them into one row per
-- key (the query server calls it now and then); it is one statement, safe to run from several
-- replicas at once and beside any writer: a row is deleted by exactly one transaction, which moves
-- its delta into its own sum in the same commit, and rows that transaction does not see are left
-- alone. Zero sums are dropped.
--
-- Inserts and updates are counted by statement-level triggers over transition tables: one
-- aggregate per statement, whatever its size (a batch of the job, a COPY). INSERT ... ON CONFLICT
-- counts right: rows it inserts are in the INSERT trigger's table, rows it updates in the UPDATE
-- trigger's, rows it leaves alone in neither. Deleting an image is counted by a row-level BEFORE
-- trigger, which also subtracts the image's vectors as they are at that moment: the vectors go in
-- the foreign key's cascade afterwards, when their image can no longer be joined to find the
-- category, so the vectors' own delete trigger counts only vectors whose image still exists.
--
-- Not counted exactly: one statement that deletes or re-categorises images and, in a writable
-- CTE of the same statement, deletes, moves or inserts vectors of those very images (the vectors'
-- statement trigger runs after the statement, when the images are already gone or changed).
-- imsrc_recount() rebuilds every count from the tables after such a statement.

CREATE TABLE catalog_counts (
    counter      text   NOT NULL CHECK (counter IN ('images', 'vectors', 'uploads', 'dead_letters')),
    category_id  integer, -- images and vectors; no foreign key, so a category may be dropped
    model_id     text,    -- vectors
    upload_state text,    -- uploads
    delta        bigint NOT NULL
);

-- Creating the triggers takes a lock that waits for writers under way and holds off new ones until
-- this migration commits, so the back-fill at the end misses nothing and counts nothing twice.
LOCK TABLE images, vectors, uploads, dead_letters IN SHARE ROW EXCLUSIVE MODE;

CREATE FUNCTION imsrc_count_images() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalog_counts (counter, category_id, delta)
        SELECT 'images', category_id, count(*) FROM new_images GROUP BY category_id;
    ELSE -- UPDATE: an image that changes category takes its vectors along
        INSERT INTO catalog_counts (counter, category_id, model_id, delta)
        SELECT counter, category_id, model_id, sum(d)
        FROM (SELECT 'images' AS counter, category_id, NULL::text AS model_id, -1 AS d FROM old_images
              UNION ALL
              SELECT 'images', category_id, NULL, 1 FROM new_images
              UNION ALL
              SELECT 'vectors', o.category_id, v.model_id, -1 FROM old_images o JOIN vectors v ON v.image_id = o.image_id
              UNION ALL
              SELECT 'vectors', n.category_id, v.model_id, 1 FROM new_images n JOIN vectors v ON v.image_id = n.image_id
             ) change
        GROUP BY counter, category_id, model_id
        HAVING sum(d) <> 0;
    END IF;
    RETURN NULL;
END
$$;

-- PostgreSQL refuses transition tables on a trigger for more than one event: one trigger each.
CREATE TRIGGER images_count_insert AFTER INSERT ON images
    REFERENCING NEW TABLE AS new_images
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_images();
CREATE TRIGGER images_count_update AFTER UPDATE ON images
    REFERENCING OLD TABLE AS old_images NEW TABLE AS new_images
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_images();

CREATE FUNCTION imsrc_count_deleted_image() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The image's row is locked by now, so no vector of it can be inserted or deleted meanwhile
    -- by a transaction that has not committed (see imsrc_count_vectors).
    INSERT INTO catalog_counts (counter, category_id, model_id, delta)
    SELECT 'images', OLD.category_id, NULL, -1
    UNION ALL
    SELECT 'vectors', OLD.category_id, model_id, -count(*) FROM vectors WHERE image_id = OLD.image_id GROUP BY model_id;
    RETURN OLD;
END
$$;

CREATE TRIGGER images_count_delete BEFORE DELETE ON images
    FOR EACH ROW EXECUTE FUNCTION imsrc_count_deleted_image();

CREATE FUNCTION imsrc_count_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalog_counts (counter, category_id, model_id, delta)
        SELECT 'vectors', i.category_id, n.model_id, count(*)
        FROM new_vectors n JOIN images i ON i.image_id = n.image_id
        GROUP BY i.category_id, n.model_id;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO catalog_counts (counter, category_id, model_id, delta)
        SELECT 'vectors', category_id, model_id, sum(d)
        FROM (SELECT i.category_id, o.model_id, -1 AS d FROM old_vectors o JOIN images i ON i.image_id = o.image_id
              UNION ALL
              SELECT i.category_id, n.model_id, 1 FROM new_vectors n JOIN images i ON i.image_id = n.image_id
             ) change
        GROUP BY category_id, model_id
        HAVING sum(d) <> 0;
    ELSE -- DELETE
        -- Vectors whose image is gone were counted by imsrc_count_deleted_image (the cascade). The
        -- lock keeps a concurrent delete of the image from counting these vectors too: it waits
        -- until this transaction ends, and then finds them gone.
        INSERT INTO catalog_counts (counter, category_id, model_id, delta)
        SELECT 'vectors', category_id, model_id, -count(*)
        FROM (SELECT i.category_id, o.model_id
              FROM old_vectors o JOIN images i ON i.image_id = o.image_id
              FOR KEY SHARE OF i) live
        GROUP BY category_id, model_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER vectors_count_insert AFTER INSERT ON vectors
    REFERENCING NEW TABLE AS new_vectors
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_vectors();
CREATE TRIGGER vectors_count_update AFTER UPDATE ON vectors
    REFERENCING OLD TABLE AS old_vectors NEW TABLE AS new_vectors
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_vectors();
CREATE TRIGGER vectors_count_delete AFTER DELETE ON vectors
    REFERENCING OLD TABLE AS old_vectors
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_vectors();

CREATE FUNCTION imsrc_count_uploads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalog_counts (counter, upload_state, delta)
        SELECT 'uploads', state, count(*) FROM new_uploads GROUP BY state;
    ELSIF TG_OP = 'UPDATE' THEN
        -- An update that leaves every state as it was (published_at set, a time refreshed) adds nothing.
        INSERT INTO catalog_counts (counter, upload_state, delta)
        SELECT 'uploads', state, sum(d)
        FROM (SELECT state, 1 AS d FROM new_uploads UNION ALL SELECT state, -1 FROM old_uploads) change
        GROUP BY state
        HAVING sum(d) <> 0;
    ELSE -- DELETE
        INSERT INTO catalog_counts (counter, upload_state, delta)
        SELECT 'uploads', state, -count(*) FROM old_uploads GROUP BY state;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER uploads_count_insert AFTER INSERT ON uploads
    REFERENCING NEW TABLE AS new_uploads
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_uploads();
CREATE TRIGGER uploads_count_update AFTER UPDATE ON uploads
    REFERENCING OLD TABLE AS old_uploads NEW TABLE AS new_uploads
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_uploads();
CREATE TRIGGER uploads_count_delete AFTER DELETE ON uploads
    REFERENCING OLD TABLE AS old_uploads
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_uploads();

CREATE FUNCTION imsrc_count_dead_letters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalog_counts (counter, delta) SELECT 'dead_letters', count(*) FROM new_dead_letters HAVING count(*) > 0;
    ELSE
        INSERT INTO catalog_counts (counter, delta) SELECT 'dead_letters', -count(*) FROM old_dead_letters HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER dead_letters_count_insert AFTER INSERT ON dead_letters
    REFERENCING NEW TABLE AS new_dead_letters
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_dead_letters();
CREATE TRIGGER dead_letters_count_delete AFTER DELETE ON dead_letters
    REFERENCING OLD TABLE AS old_dead_letters
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_dead_letters();

-- TRUNCATE has no transition tables: it takes the counter's current sums back. TRUNCATE holds
-- the table exclusively, so no writer of it can commit meanwhile, and every snapshot sees the
-- sums whole (a compaction moves them in one commit).
CREATE FUNCTION imsrc_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO catalog_counts (counter, category_id, model_id, upload_state, delta)
    SELECT counter, category_id, model_id, upload_state, -sum(delta)
    FROM catalog_counts
    WHERE counter = TG_ARGV[0]
    GROUP BY counter, category_id, model_id, upload_state
    HAVING sum(delta) <> 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER images_count_truncate AFTER TRUNCATE ON images
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_truncated('images');
CREATE TRIGGER vectors_count_truncate AFTER TRUNCATE ON vectors
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_truncated('vectors');
CREATE TRIGGER uploads_count_truncate AFTER TRUNCATE ON uploads
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_truncated('uploads');
CREATE TRIGGER dead_letters_count_truncate AFTER TRUNCATE ON dead_letters
    FOR EACH STATEMENT EXECUTE FUNCTION imsrc_count_truncated('dead_letters');

-- Rebuilds every count from the tables: the back-fill below, and the remedy for the one case the
-- triggers do not count exactly (see the top). Holds off writers of the four tables while it runs,
-- and waits for a compaction under way, whose rows it would otherwise not see.
CREATE FUNCTION imsrc_recount() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE images, vectors, uploads, dead_letters IN SHARE MODE;
    LOCK TABLE catalog_counts IN EXCLUSIVE MODE;
    DELETE FROM catalog_counts;
    INSERT INTO catalog_counts (counter, category_id, delta)
    SELECT 'images', category_id, count(*) FROM images GROUP BY category_id;
    INSERT INTO catalog_counts (counter, category_id, model_id, delta)
    SELECT 'vectors', i.category_id, v.model_id, count(*)
    FROM vectors v JOIN images i ON i.image_id = v.image_id
    GROUP BY i.category_id, v.model_id;
    INSERT INTO catalog_counts (counter, upload_state, delta)
    SELECT 'uploads', state, count(*) FROM uploads GROUP BY state;
    INSERT INTO catalog_counts (counter, delta)
    SELECT 'dead_letters', count(*) FROM dead_letters HAVING count(*) > 0;
END
$$;

-- Folds the deltas into one row per key and drops the keys that sum to zero; returns how many rows
-- fewer there are. Under READ COMMITTED a second compaction at the same moment waits on the rows
-- the first deletes, skips them once the first commits (they are gone), and does not see the
-- first's sums (they are newer than its snapshot): every delta lands in exactly one sum. A writer's
-- rows are either in a compaction's snapshot, and moved, or not, and left as they are.
CREATE FUNCTION imsrc_compact_counts() RETURNS bigint LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM catalog_counts RETURNING counter, category_id, model_id, upload_state, delta
    ),
    summed AS (
        INSERT INTO catalog_counts (counter, category_id, model_id, upload_state, delta)
        SELECT counter, category_id, model_id, upload_state, sum(delta)
        FROM gone
        GROUP BY counter, category_id, model_id, upload_state
        HAVING sum(delta) <> 0
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM summed)
$$;

SELECT imsrc_recount();
