// Package forensics is the shared record model of tracehop: evidence
// references, flows, events, sessions, campaigns, links, hop chains and the
// Case that ties a run together, plus time, ID and IP helpers.
//
// It owns no I/O and no parsing; those live in the sub-packages
// (evidence, capture, logs, session, campaign, trace, casefile, report).
package forensics
