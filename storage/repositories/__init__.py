"""Repositories: queries and changes for one aggregate each. They never commit."""
