// Package report renders what a person or a court reads: the evidence
// bundle, its manifest, signature and custody log, and the record writers
// (JSON Lines, CSV) used by the commands.
//
// WriteBundle turns a forensics.Case into a directory (all writes through
// an os.Root, fixed file names): report.json (versioned, JSON Schema in
// schema/report.schema.json), report.html (one self-contained file:
// inline SVG world map and timeline, strict hash-based CSP, no network
// reference), report.pdf (go-pdf/fpdf, vector drawings, embedded
// Latin+Hangul font), campaigns.csv, links.csv, sessions.csv, ips.csv,
// events.csv, flows.csv and chains.csv as applicable, stix.json (STIX 2.1,
// UUIDv5 identifiers), custody.jsonl (hash-chained forensics.CustodyEntry
// lines), manifest.json (SHA-256 of every input and output) and, with a
// key, manifest.sig (Ed25519). Verify checks such a directory; GenerateKey
// makes the key pair.
//
// Everything but manifest.json and custody.jsonl is a pure function of the
// Case and the Options: sorted iteration, fixed number and time formats, no
// wall clock, host name or random value. Options.ReportTime pins those two
// as well.
//
// It reads the model; it parses no evidence, enriches nothing and decides
// no link: the HTML and PDF say what the Case says. Assets: assets/worldmap.txt
// (Natural Earth via world-atlas, converted by internal/mkworldmap, `make
// worldmap`) and assets/tracehop-sans-kr.ttf.gz (NanumGothic subset, SIL
// OFL, `make pdffont`).
package report
