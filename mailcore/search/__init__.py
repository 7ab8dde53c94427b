"""The local full-text index of every folder's messages and the search language that reads it."""
