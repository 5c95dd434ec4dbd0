-- Images wait for the OCR check of their image area (text typed on the scan)
-- while the link itself goes out as soon as every object is de-identified:
-- 'none' (nothing to read), 'pending' (held back), 'passed', 'failed' (held back for good).
ALTER TABLE share_items ADD COLUMN text_check TEXT NOT NULL DEFAULT 'none'
    CHECK (text_check IN ('none', 'pending', 'passed', 'failed'));
