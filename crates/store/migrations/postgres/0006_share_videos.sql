-- A cine loop's MP4 is encoded after its share is ready (and its messages are
-- queued): the patient gets the link as soon as every object is de-identified,
-- and the loop shows its first frame until the video exists.
ALTER TABLE share_items ADD COLUMN video_pending BOOLEAN NOT NULL DEFAULT FALSE;
