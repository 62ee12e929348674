"""Data in a dataset group: schemas, validation before upload, staging and import jobs, the figures
the Overview shows, and the sources (uploads, MongoDB, saved sources) data comes from."""
