"""Developer tools of the collection (not shipped: galaxy.yml build_ignore)."""
