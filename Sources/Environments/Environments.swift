// The `Environments` module: see DESIGN.md's module map.
