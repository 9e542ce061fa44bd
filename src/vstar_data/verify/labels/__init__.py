"""Label types: one class per type, each parses, verifies and explains one kind of label."""
