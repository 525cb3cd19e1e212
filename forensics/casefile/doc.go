// Package casefile stores a case in a SQLite file with a custody log.
package casefile
