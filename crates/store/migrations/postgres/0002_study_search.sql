-- The Studies screen's search index (PostgreSQL). Keep in step with
-- migrations/sqlite/0002_study_search.sql (the comments there explain it):
-- both must produce the same terms for the same rows.

CREATE TABLE search_terms (
    account_id  BIGINT NOT NULL,
    -- Byte order, as in SQLite: the search compares prefixes as ranges.
    term        TEXT COLLATE "C" NOT NULL,
    study_ref   BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, term, study_ref)
);
CREATE INDEX search_terms_study ON search_terms (study_ref);

-- translate(), not lower(): lower() follows the database's locale, and the
-- fold must be byte-for-byte the one SQLite applies (ASCII lower + the table).
CREATE FUNCTION studylink_search_fold(value TEXT) RETURNS TEXT
LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT translate(value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZàáâãäåāăąçćčďđèéêëēėęěìíîïīįıłñńňòóôõöøōőŕřśšşťţùúûüūůűųýÿźżžÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚÌÍÎÏĪĮŁÑŃŇÒÓÔÕÖØŌŐŔŘŚŠŞŤŢÙÚÛÜŪŮŰŲÝŸŹŻŽİ' || '''' || chr(8217) || chr(768) || chr(769) || chr(770) || chr(771) || chr(772) || chr(774) || chr(775) || chr(776) || chr(778) || chr(779) || chr(780) || chr(807) || chr(808), 'abcdefghijklmnopqrstuvwxyzaaaaaaaaacccddeeeeeeeeiiiiiiilnnnoooooooorrsssttuuuuuuuuyyzzzaaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorrsssttuuuuuuuuyyzzzi') $$;

CREATE VIEW study_search_source AS
SELECT s.id AS study_ref, s.account_id AS account_id, t.term COLLATE "C" AS term
FROM studies s
JOIN patients p ON p.id = s.patient_ref
CROSS JOIN LATERAL regexp_split_to_table(
    studylink_search_fold(coalesce(p.name_search, '') || ' ' || coalesce(p.patient_id, '') || ' ' || coalesce(s.accession, '')),
    '[-= ,./^]+') AS t(term)
WHERE t.term <> '';

CREATE FUNCTION search_terms_refresh_study() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.accession IS NOT DISTINCT FROM NEW.accession THEN
            RETURN NULL;
        END IF;
        DELETE FROM search_terms WHERE study_ref = NEW.id;
    END IF;
    INSERT INTO search_terms (account_id, term, study_ref)
    SELECT DISTINCT account_id, term, study_ref FROM study_search_source WHERE study_ref = NEW.id
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER search_terms_study AFTER INSERT OR UPDATE OF accession ON studies
FOR EACH ROW EXECUTE FUNCTION search_terms_refresh_study();

CREATE FUNCTION search_terms_refresh_patient() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.name_search IS NOT DISTINCT FROM NEW.name_search
       AND OLD.patient_id IS NOT DISTINCT FROM NEW.patient_id THEN
        RETURN NULL;
    END IF;
    DELETE FROM search_terms WHERE study_ref IN (SELECT id FROM studies WHERE patient_ref = NEW.id);
    INSERT INTO search_terms (account_id, term, study_ref)
    SELECT DISTINCT v.account_id, v.term, v.study_ref FROM study_search_source v
    WHERE v.study_ref IN (SELECT id FROM studies WHERE patient_ref = NEW.id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER search_terms_patient AFTER UPDATE OF name_search, patient_id ON patients
FOR EACH ROW EXECUTE FUNCTION search_terms_refresh_patient();

-- Studies stored before this migration.
INSERT INTO search_terms (account_id, term, study_ref)
SELECT DISTINCT account_id, term, study_ref FROM study_search_source
ON CONFLICT DO NOTHING;
