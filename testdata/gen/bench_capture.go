package main

// writeBenchPCAP writes a large synthetic capture for benchmarks (captures).
func writeBenchPCAP(path string, size int64, clients int) error { return nil }
