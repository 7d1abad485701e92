// The `NN` module: see DESIGN.md's module map.
