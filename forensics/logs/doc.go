// Package logs parses server logs and flow records into events and flows.
package logs
