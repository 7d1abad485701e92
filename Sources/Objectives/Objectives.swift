// The `Objectives` module: see DESIGN.md's module map.
