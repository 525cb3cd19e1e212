// Package campaign links sessions into campaigns with typed, explainable
// links (DESIGN §6): an inverted index on indicator values proposes
// candidate pairs (never all pairs), named rules with weights score each
// pair, pairs whose weights reach the merge threshold with at least one
// link that is not infrastructure are joined, and connected components
// (union-find over sessions sorted by ID) become campaigns. Each campaign
// carries the links with their reasons, a spanning tree of the strongest
// links admitting every member, the bridges whose removal splits it, and a
// triage score printed with its components.
//
// It does not build sessions (forensics/session), trace hops
// (forensics/trace attaches chains to Campaign.Hops) or render reports.
package campaign
