"""Model loaders (skops, ONNX, transformers, trusted pickle), scoring and its cache."""
