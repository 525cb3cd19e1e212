// Package casefile stores a case in one SQLite file (*.thcase, WAL mode,
// modernc.org/sqlite, no cgo) that grows as evidence arrives: case metadata,
// evidence items with their SHA-256, flows, events, IP enrichment with its
// database provenance, problems and caps hit (all kept per input, each input
// in one transaction), the derived sessions, campaigns, links and hop chains
// (replaced as a whole after each addition), and a hash-chained custody log.
//
// Every record is stored as its canonical JSON next to the indexed columns
// that queries filter on (addresses as 16-byte blobs so CIDRs are ranges,
// times as Unix nanoseconds, ASN, country, credential, user agent,
// campaign), so what goes in comes out byte for byte.
//
// A case file is checked before SQLite ever opens it for writing: a file
// that is truncated, not SQLite, not a tracehop case or of a newer schema
// is refused with an error and left untouched. One writer at a time holds
// a lock file next to the case (a second gets *LockedError naming the PID);
// readers read a consistent snapshot while a writer adds.
//
// It does not parse evidence, enrich addresses or build sessions and
// campaigns: forensics/analyze runs those stages and hands the results here.
package casefile
