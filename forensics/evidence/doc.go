// Package evidence opens inputs for reading only, hashes them while they
// stream, detects their kind from magic bytes and content, decompresses
// gzip and zstd with caps on size and ratio, walks directories in sorted
// order, and guards outputs from landing inside an input directory.
//
// It does not parse records: captures go to forensics/capture and logs to
// forensics/logs.
package evidence
