"""The inventory: loading unit folders, their schema, validation, province policy and derived data."""
