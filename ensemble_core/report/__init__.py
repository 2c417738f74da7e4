"""Reports for people who were not at the keyboard: where the ensemble helps (slices)."""
