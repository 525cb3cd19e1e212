// Package enrich answers "what is this address": its class without any
// database (RFC 6890 special-purpose ranges, CGNAT, IPv4 carried in IPv6
// by mapping, NAT64, 6to4 or Teredo), and from MaxMind-format databases
// its geolocated and registered country, subdivision, city, coordinates
// with accuracy radius, ASN and organisation, ISP, connection type,
// domain, anonymizer flags and hosting flag — each value with the
// database build that gave it (type, build time, SHA-256, matched prefix).
//
// It owns: the database readers (geoip2-golang v2 layouts for GeoIP2 and
// GeoLite2 City, Country, Enterprise, ASN, ISP, Anonymous-IP,
// Connection-Type and Domain; declarative field Mappings over
// maxminddb-golang v2 for other vendors), the lookup order (--geoip
// paths, $TRACEHOP_GEOIP, the user data dir, the embedded default data),
// snapshot sets (several dated builds of one database, chosen per
// lookup by the event's time), the merge of several databases (most
// specific answer per field), the embedded default data and hosting-ASN
// list (data/, built by `make geodata` from enrich/internal/geodata), the
// (address, snapshot) lookup cache, and database verification and import.
//
// Lookups are built for millions of addresses per second: IPv4 searches
// start from a jump table and walk every database's tree in lockstep
// (tree4.go, checked against maxminddb's own Lookup), decoded records are
// kept per data offset, mapped vendor records are read in one pass, a
// record and its sources take one allocation, and the lookup cache is a
// lock-free set-associative table (cache.go).
//
// It does not own: where addresses come from (forensics/capture,
// forensics/logs), what an address means for a case (forensics/campaign,
// forensics/trace), or how records are printed (cmd/tracehop,
// forensics/report). It knows nothing of the forensics model: Record,
// Source and DatabaseInfo are the types the rest of tracehop embeds.
package enrich
