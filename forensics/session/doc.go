// Package session groups events and flows into sessions: the activity of
// one source address with one client identity (user agent and credential
// for log events, TLS/SSH fingerprint or user agent for flows) until an idle
// gap. Each session carries the indicators that forensics/campaign compares:
// credential and token key id, fingerprints, path templates, method and
// status mix, distinct objects touched, sequential reads, /24 or /48, ASN,
// hosting and anonymizer flags, hour-of-week profile and beacon period.
//
// Stream does the grouping over records that arrive in time order (as
// items: what grouping reads of a record), ending each session as soon as
// the records' time has passed its gap, so that memory holds only the
// sessions open at a time; Build is Stream over records held in memory.
//
// It does not link sessions to each other (forensics/campaign does), parse
// logs or packets (forensics/logs, forensics/capture) or look up addresses
// (enrich): inputs arrive parsed and enriched.
package session
