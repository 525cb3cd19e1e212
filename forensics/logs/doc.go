// Package logs turns server logs and flow records into the shared model:
// one forensics.Event per log record (web access logs, W3C/IIS, AWS ALB and
// CloudFront, JSON lines such as ECS or API gateway logs, sshd via syslog)
// and one forensics.Flow per flow record (Zeek conn.log, Suricata EVE,
// nfdump CSV, Argus CSV).
//
// It owns format detection (Detect), field mapping (--field), JWT
// inspection, time-zone and clock-offset handling, and resolution of
// X-Forwarded-For / Forwarded / X-Real-IP chains through trusted proxies
// (ResolveChain). Every record carries the file, line and byte offset it
// came from; malformed lines are counted with their first positions and
// never stop a read.
//
// It does not open files, decompress or hash them (forensics/evidence), it
// does not enrich addresses (enrich, via forensics/analyze) and it does not
// render output (forensics/report, cmd/tracehop).
package logs
