// Package session groups events and flows into sessions.
package session
