-- Image retention: finding whether any job still uses a blob, by its hash.
CREATE INDEX job_images_blob ON job_images (sha256);
