-- PostgreSQL twin of sqlite/004_image_retention.sql: finding whether any job still uses a blob.
CREATE INDEX job_images_blob ON job_images (sha256);
