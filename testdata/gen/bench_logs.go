package main

// writeBenchLogs writes a large combined log and ECS JSON log for benchmarks (logs).
func writeBenchLogs(dir string, lines int) error { return nil }
