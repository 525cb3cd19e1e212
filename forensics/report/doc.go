// Package report renders what a person or a court reads: the evidence
// bundle (HTML, PDF, JSON, CSV, STIX 2.1), its manifest, signature and
// custody log, and the record writers (JSON Lines, CSV) used by the
// commands. It reads the model; it parses no evidence.
package report
