"""Mixing: the plan (what to do), the plugins it may use, rendering and mastering to a target."""
