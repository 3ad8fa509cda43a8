"""ONNX model build and inference (contextual lessons, skill tagging). Arrives with the model."""
