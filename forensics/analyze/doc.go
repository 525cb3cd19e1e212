// Package analyze runs the stages in order for `analyze`, `case add`,
// `report` and the record commands: inputs in (opened read-only through
// forensics/evidence, decoded by forensics/capture or forensics/logs,
// enriched), a forensics.Case out (records, provenance, counts of what was
// skipped), then sessions, campaigns and hop chains. StreamFlows is the
// streaming form for `flows`: flows of any number go through FlowSorter,
// an external merge sort with memory bounded by its chunk size.
// StreamEvents and StreamEventsCSV are the streaming forms for `events`:
// each input is hashed, then parsed and its events written as they come.
//
// It owns the order of work and the parallelism across inputs; it does not
// parse, score or render anything itself.
package analyze
