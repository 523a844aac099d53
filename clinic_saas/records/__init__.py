"""A client's whole record across domains: export (JSON and print) and erasure under the
retention rules."""
