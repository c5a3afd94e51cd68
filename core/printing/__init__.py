"""Print-ready files: the design at its product's print size and DPI."""
