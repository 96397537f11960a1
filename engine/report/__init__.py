"""Renderers: each turns one result object into one format; none of them computes anything."""
