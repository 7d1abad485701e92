// The `Store` module: see DESIGN.md's module map.
