"""Python module generators: one per Keras style, sharing expressions and layout."""
