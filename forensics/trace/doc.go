// Package trace builds hop chains through proxies and relays.
package trace
