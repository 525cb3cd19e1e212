// Package casefile stores a case in one SQLite file (*.thcase, WAL mode,
// modernc.org/sqlite, no cgo) that grows as evidence arrives: case metadata,
// evidence items with their SHA-256 and who added them when, flows, events,
// IP enrichment results with their database provenance, problems and caps
// hit (all kept per input, each input in one transaction), the derived
// sessions, campaigns, links and hop chains (replaced as a whole after each
// addition), and a hash-chained custody log (forensics.CustodyEntry).
//
// Flows, events and sessions are stored in blocks of up to 512 records:
// their JSON Lines exactly as the commands print them, next to a compact
// per-record key list of what queries filter on (addresses, times, ASN,
// country, credential, user agent, campaign, evidence position), both
// S2-compressed with a CRC-32C (codec.go; older zstd blocks are still
// read). One SQLite row per block instead of per record is what makes
// ingest fast; a query reads the keys and decodes only the JSON that
// matches; what goes in comes out byte for byte. Flows and events are
// encoded by the model's hand-written encoder (forensics.AppendFlowJSONGeo,
// forensics.AppendEventJSONGeo) proven byte-identical to encoding/json, on
// every core, while one goroutine inserts the blocks in order.
//
// A case file is checked before SQLite opens it (header magic, application
// ID, schema version, length): a file that is truncated, not SQLite, not a
// tracehop case or of a newer schema is refused with an error and left
// untouched. One writer at a time holds a lock file next to the case (a
// second gets *LockedError naming the PID; the OS drops the lock when the
// holder dies, kill -9 included); readers read committed data while a
// writer adds. The schema is versioned with PRAGMA user_version and
// migrated forward when a writer opens an older case.
//
// It does not parse evidence, enrich addresses or build sessions and
// campaigns: forensics/analyze runs those stages (analyze.AddToCase,
// analyze.LoadCase) and hands the results here.
package casefile
