package forensics

import "github.com/tracehop/tracehop/enrich"

// Case is everything one run (or one case file) knows: the inputs with
// their provenance, the records, what was skipped and the parameters used.
// forensics/analyze produces it; forensics/report renders it.
type Case struct {
	ID        string                `json:"case_id,omitempty"`
	Examiner  string                `json:"examiner,omitempty"`
	Home      string                `json:"home,omitempty"`
	Tool      ToolInfo              `json:"tool"`
	Inputs    []Input               `json:"inputs"`
	Databases []enrich.DatabaseInfo `json:"databases,omitempty"`
	Params    map[string]string     `json:"parameters,omitempty"`
	Flows     []Flow                `json:"flows,omitempty"`
	Events    []Event               `json:"events,omitempty"`
	Sessions  []Session             `json:"sessions,omitempty"`
	Campaigns []Campaign            `json:"campaigns,omitempty"`
	Chains    []Chain               `json:"chains,omitempty"`
	Problems  []Problem             `json:"problems,omitempty"`
	Caps      []CapHit              `json:"caps_hit,omitempty"`
	// FlowStore, when set, holds the flows in place of Flows, as
	// EventStore does the events. Read them through NumFlows and EachFlow.
	FlowStore FlowStore `json:"-"`
	// EventStore, when set, holds the events in place of Events: a case
	// whose events are too many to hold in memory (analyze spools them
	// to disk). Read events through NumEvents and EachEvent, which
	// serve either.
	EventStore EventStore `json:"-"`
	// SessionStore, when set, holds the sessions in place of Sessions, as
	// EventStore does the events. Read them through NumSessions and
	// EachSession.
	SessionStore SessionStore `json:"-"`
}

// RecordStore holds records of a case outside the Case (Case.FlowStore,
// Case.EventStore, Case.SessionStore).
type RecordStore[T any] interface {
	// Len is the number of records.
	Len() int
	// Each calls fn with every record in output order (events: time,
	// then ID; flows and sessions: start, then ID) until fn fails. The record is
	// fn's for the call only; its enrichment may be shared and is
	// read-only.
	Each(fn func(*T) error) error
}

type (
	// FlowStore is a case's flows held outside the Case.
	FlowStore = RecordStore[Flow]
	// EventStore is a case's events held outside the Case.
	EventStore = RecordStore[Event]
	// SessionStore is a case's sessions held outside the Case.
	SessionStore = RecordStore[Session]
)

// NumFlows is the number of the case's flows, held or stored.
func (c *Case) NumFlows() int { return count(c.FlowStore, c.Flows) }

// EachFlow calls fn with every flow of the case in order, from Flows or
// from the FlowStore, until fn fails.
func (c *Case) EachFlow(fn func(*Flow) error) error { return each(c.FlowStore, c.Flows, fn) }

// NumEvents is the number of the case's events, held or stored.
func (c *Case) NumEvents() int { return count(c.EventStore, c.Events) }

// EachEvent calls fn with every event of the case in order, from Events
// or from the EventStore, until fn fails.
func (c *Case) EachEvent(fn func(*Event) error) error { return each(c.EventStore, c.Events, fn) }

// NumSessions is the number of the case's sessions, held or stored.
func (c *Case) NumSessions() int { return count(c.SessionStore, c.Sessions) }

// EachSession calls fn with every session of the case in order, from
// Sessions or from the SessionStore, until fn fails.
func (c *Case) EachSession(fn func(*Session) error) error {
	return each(c.SessionStore, c.Sessions, fn)
}

func count[T any](store RecordStore[T], held []T) int {
	if store != nil {
		return store.Len()
	}
	return len(held)
}

func each[T any](store RecordStore[T], held []T, fn func(*T) error) error {
	if store != nil {
		return store.Each(fn)
	}
	return EachOf(held, fn)
}

// EachOf calls fn with every record of held in order until fn fails: a
// slice read as a RecordStore is.
func EachOf[T any](held []T, fn func(*T) error) error {
	for i := range held {
		if err := fn(&held[i]); err != nil {
			return err
		}
	}
	return nil
}

// ToolInfo names the build of tracehop that produced an output.
type ToolInfo struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version,omitempty"`
}

// Input is one evidence file as received: path as given, size, SHA-256,
// detected kind, record and skip counts, and an error if it was unusable.
type Input struct {
	Path      string `json:"path"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Records   int64  `json:"records"`
	Malformed int64  `json:"malformed"`
	Error     string `json:"error,omitempty"`
}

// Problem is one malformed record or unusable input, with its position.
type Problem struct {
	File   string `json:"file"`
	Line   uint64 `json:"line,omitempty"`
	Packet uint64 `json:"packet,omitempty"`
	Offset int64  `json:"offset,omitempty"`
	Reason string `json:"reason"`
}

// CapHit records a limit that was reached, so no report hides a cut.
type CapHit struct {
	Cap   string `json:"cap"`
	File  string `json:"file,omitempty"`
	Count int64  `json:"count"`
}
