-- The Studies screen's search index (SQLite). Keep in step with
-- migrations/postgres/0002_study_search.sql: both must produce the same terms.
--
-- One row per (study, term). Terms are the words of the patient's name, the
-- patient ID and the accession number, case- and accent-folded, so that
-- "garcia ana" finds GARCÍA^ANA MARÍA in any order and by prefixes, with an
-- index range scan per word (see src/sql/search.rs, which folds the query the
-- same way; a unit test there checks the two folds agree).
--
-- Triggers fill it, so every insert path (C-STORE, STOW, upload, import) keeps
-- it current inside the same transaction without knowing it exists.
--
-- DISTINCT, not just OR IGNORE: the upsert that fires a trigger imposes its own
-- conflict policy (ABORT) on the statements inside it.

CREATE TABLE search_terms (
    account_id  BIGINT NOT NULL,
    term        TEXT   NOT NULL,
    study_ref   BIGINT NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, term, study_ref)
) WITHOUT ROWID;
CREATE INDEX search_terms_study ON search_terms (study_ref);

-- Folding: ASCII lower(), then a fixed table of accented Latin letters to their
-- base letter, apostrophes and common combining marks dropped (in views of 25
-- replace() each: SQLite's parser overflows on ~35 nested calls). Splitting:
-- json_quote() makes the text a valid JSON string; separators (^ = space , . / -)
-- become "," so json_each() yields the words.
CREATE VIEW study_search_fold0 AS
SELECT s.id AS study_ref, s.account_id AS account_id, lower(coalesce(p.name_search, '') || ' ' || coalesce(p.patient_id, '') || ' ' || coalesce(s.accession, '')) AS t
FROM studies s JOIN patients p ON p.id = s.patient_ref;

CREATE VIEW study_search_fold1 AS
SELECT study_ref, account_id, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'à', 'a'), 'á', 'a'), 'â', 'a'), 'ã', 'a'), 'ä', 'a'), 'å', 'a'), 'ā', 'a'), 'ă', 'a'), 'ą', 'a'), 'ç', 'c'), 'ć', 'c'), 'č', 'c'), 'ď', 'd'), 'đ', 'd'), 'è', 'e'), 'é', 'e'), 'ê', 'e'), 'ë', 'e'), 'ē', 'e'), 'ė', 'e'), 'ę', 'e'), 'ě', 'e'), 'ì', 'i'), 'í', 'i'), 'î', 'i') AS t
FROM study_search_fold0;

CREATE VIEW study_search_fold2 AS
SELECT study_ref, account_id, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'ï', 'i'), 'ī', 'i'), 'į', 'i'), 'ı', 'i'), 'ł', 'l'), 'ñ', 'n'), 'ń', 'n'), 'ň', 'n'), 'ò', 'o'), 'ó', 'o'), 'ô', 'o'), 'õ', 'o'), 'ö', 'o'), 'ø', 'o'), 'ō', 'o'), 'ő', 'o'), 'ŕ', 'r'), 'ř', 'r'), 'ś', 's'), 'š', 's'), 'ş', 's'), 'ť', 't'), 'ţ', 't'), 'ù', 'u'), 'ú', 'u') AS t
FROM study_search_fold1;

CREATE VIEW study_search_fold3 AS
SELECT study_ref, account_id, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'û', 'u'), 'ü', 'u'), 'ū', 'u'), 'ů', 'u'), 'ű', 'u'), 'ų', 'u'), 'ý', 'y'), 'ÿ', 'y'), 'ź', 'z'), 'ż', 'z'), 'ž', 'z'), 'À', 'a'), 'Á', 'a'), 'Â', 'a'), 'Ã', 'a'), 'Ä', 'a'), 'Å', 'a'), 'Ā', 'a'), 'Ă', 'a'), 'Ą', 'a'), 'Ç', 'c'), 'Ć', 'c'), 'Č', 'c'), 'Ď', 'd'), 'Đ', 'd') AS t
FROM study_search_fold2;

CREATE VIEW study_search_fold4 AS
SELECT study_ref, account_id, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'È', 'e'), 'É', 'e'), 'Ê', 'e'), 'Ë', 'e'), 'Ē', 'e'), 'Ė', 'e'), 'Ę', 'e'), 'Ě', 'e'), 'Ì', 'i'), 'Í', 'i'), 'Î', 'i'), 'Ï', 'i'), 'Ī', 'i'), 'Į', 'i'), 'Ł', 'l'), 'Ñ', 'n'), 'Ń', 'n'), 'Ň', 'n'), 'Ò', 'o'), 'Ó', 'o'), 'Ô', 'o'), 'Õ', 'o'), 'Ö', 'o'), 'Ø', 'o'), 'Ō', 'o') AS t
FROM study_search_fold3;

CREATE VIEW study_search_fold5 AS
SELECT study_ref, account_id, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, 'Ő', 'o'), 'Ŕ', 'r'), 'Ř', 'r'), 'Ś', 's'), 'Š', 's'), 'Ş', 's'), 'Ť', 't'), 'Ţ', 't'), 'Ù', 'u'), 'Ú', 'u'), 'Û', 'u'), 'Ü', 'u'), 'Ū', 'u'), 'Ů', 'u'), 'Ű', 'u'), 'Ų', 'u'), 'Ý', 'y'), 'Ÿ', 'y'), 'Ź', 'z'), 'Ż', 'z'), 'Ž', 'z'), 'İ', 'i'), '''', ''), char(8217), ''), char(768), '') AS t
FROM study_search_fold4;

CREATE VIEW study_search_fold6 AS
SELECT study_ref, account_id, replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(t, char(769), ''), char(770), ''), char(771), ''), char(772), ''), char(774), ''), char(775), ''), char(776), ''), char(778), ''), char(779), ''), char(780), ''), char(807), ''), char(808), '') AS t
FROM study_search_fold5;

CREATE VIEW study_search_source AS
SELECT f.study_ref AS study_ref, f.account_id AS account_id, j.value AS term
FROM study_search_fold6 f
JOIN json_each('[' || replace(replace(replace(replace(replace(replace(replace(json_quote(t), ',', '","'), '^', '","'), '=', '","'), ' ', '","'), '.', '","'), '/', '","'), '-', '","') || ']') j
WHERE j.value <> '';

CREATE TRIGGER search_terms_study_insert AFTER INSERT ON studies
BEGIN
    INSERT OR IGNORE INTO search_terms (account_id, term, study_ref)
    SELECT DISTINCT account_id, term, study_ref FROM study_search_source WHERE study_ref = NEW.id;
END;

-- Upserts fill in NULLs later (a first instance without an accession): refresh.
CREATE TRIGGER search_terms_study_update AFTER UPDATE OF accession ON studies
WHEN OLD.accession IS NOT NEW.accession
BEGIN
    DELETE FROM search_terms WHERE study_ref = NEW.id;
    INSERT OR IGNORE INTO search_terms (account_id, term, study_ref)
    SELECT DISTINCT account_id, term, study_ref FROM study_search_source WHERE study_ref = NEW.id;
END;

CREATE TRIGGER search_terms_patient_update AFTER UPDATE OF name_search, patient_id ON patients
WHEN OLD.name_search IS NOT NEW.name_search OR OLD.patient_id IS NOT NEW.patient_id
BEGIN
    DELETE FROM search_terms WHERE study_ref IN (SELECT id FROM studies WHERE patient_ref = NEW.id);
    INSERT OR IGNORE INTO search_terms (account_id, term, study_ref)
    SELECT DISTINCT v.account_id, v.term, v.study_ref FROM study_search_source v
    WHERE v.study_ref IN (SELECT id FROM studies WHERE patient_ref = NEW.id);
END;

-- Studies stored before this migration.
INSERT OR IGNORE INTO search_terms (account_id, term, study_ref)
SELECT DISTINCT account_id, term, study_ref FROM study_search_source;
