"""Models arrive with their issue; the app is installed and migrated from the start."""
