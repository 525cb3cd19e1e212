// Package trace builds hop chains (DESIGN §4 chain record): the
// forwarded-for chain of each log event as resolved by forensics/logs
// (method "xff"; hops left of the first untrusted entry are unverified
// claims), and relays across vantage points: an address seen receiving
// flows from one side and sending flows to the other, whose inbound and
// outbound traffic is paired by time overlap and ON/OFF activity
// correlation after Zhang and Paxson ("Detecting Stepping Stones", 2000:
// idle 0.5 s ends an ON period, two OFF→ON transitions within δ = 80 ms
// coincide, ratio of coincidences ≥ 0.3). Chains run origin → relay or
// proxies → target, each hop with the enrichment its records carry.
//
// It does not parse captures or logs, resolve X-Forwarded-For (the log
// parser does) or look addresses up itself unless Options.Lookup is set.
// Build also attaches to each campaign the chains that touch its
// addresses (Campaign.Hops).
package trace
