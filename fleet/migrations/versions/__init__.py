"""The schema's revisions, in the order their ``down_revision`` links them (see ``fleet.migrations``)."""
