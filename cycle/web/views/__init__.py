"""The pages, one module per journey; ``base`` holds what they share."""
