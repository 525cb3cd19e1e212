package campaign

import (
	"strconv"
	"strings"
	"time"
)

// Rule names, as printed in Link.Rule.
const (
	RuleCredential  = "credential"
	RuleTokenKeyID  = "token_key_id"
	RuleHandover    = "handover"
	RuleFingerprint = "fingerprint"
	RulePrefix      = "prefix"
	RuleASN         = "asn"
	RuleHourProfile = "hour_profile"
	RuleBeacon      = "beacon"
	// RuleCrawler joins sessions of declared benign crawlers with the same
	// user agent (they only ever join each other).
	RuleCrawler = "crawler_identity"
)

// Link classes, strongest first. A hub value drops one class.
const (
	ClassStrong = "strong"
	ClassMedium = "medium"
	ClassWeak   = "weak"
)

// Campaign labels.
const (
	LabelAttack   = "attack"
	LabelCrawler  = "crawler"
	LabelOrdinary = "ordinary"
)

// Options hold every weight, threshold and gap of campaign building; the
// bundle records them through Params.
type Options struct {
	StrongWeight float64 // same credential, token key id, work hand-over
	MediumWeight float64 // same rare fingerprint tuple
	WeakWeight   float64 // same /24 or /48, same ASN, hour profile, beacon
	// Threshold is the summed weight at which two sessions merge.
	Threshold float64
	// InfraCap bounds what infrastructure links (prefix, ASN) add together.
	InfraCap float64
	// HubShare and HubCredentials define a hub value (seen in more than
	// HubShare of sessions, or with more than HubCredentials distinct
	// credentials); hubs drop one class. HubMinSessions is a floor under
	// the share so that tiny inputs do not make every shared value a hub.
	HubShare       float64
	HubMinSessions int
	HubCredentials int
	// HandoverWindow is how soon after one session stops another must
	// continue its sequential read; HandoverMaxStep the largest forward
	// step from the last object read to the next; HandoverMinRun the
	// fewest sequential reads each side must show.
	HandoverWindow  time.Duration
	HandoverMaxStep int64
	HandoverMinRun  int
	// InfraWindow is how close in time sessions on the same network or
	// ASN must be for the infrastructure links.
	InfraWindow time.Duration
	// ProfileCosine is the hour-of-week cosine similarity that links;
	// ProfileMinEvents the fewest events a profile needs.
	ProfileCosine    float64
	ProfileMinEvents int
	// BeaconMinScore is the beacon score both sessions need; BeaconTolerance
	// the relative difference of periods still counted as the same.
	BeaconMinScore  float64
	BeaconTolerance float64
	// BlockSize bounds candidate pairs: postings of at most this many
	// sessions are compared pairwise; larger ones are split by network,
	// ASN and peak hour, and blocks still larger are compared within a
	// sliding window of this many sessions in time order.
	BlockSize int
	// Home is the investigator's country for the foreign share.
	Home string
	// ScoreWeights weigh the triage components (foreign, hosting,
	// enumeration, failure, scanner, regularity, duration).
	ScoreWeights map[string]float64
	// EnumObjects is the distinct objects per session that counts as full
	// enumeration; FullDuration the span that counts as long-running.
	EnumObjects  float64
	FullDuration time.Duration
	// AttackScore labels a campaign "attack"; SingletonScore lets a single
	// session be a campaign; MinSessions is the smallest group otherwise.
	AttackScore    float64
	SingletonScore float64
	MinSessions    int
	// IncludeOrdinary keeps low-score groups of ordinary clients (labelled
	// "ordinary"); by default they are not campaigns.
	IncludeOrdinary bool
	// MaxBridgeWork bounds the bridge search (links × edges per campaign);
	// larger campaigns report no bridges and count in Stats.
	MaxBridgeWork int
}

// DefaultOptions returns the weights and thresholds of DESIGN §6.
func DefaultOptions() Options {
	return Options{
		StrongWeight:     3.0,
		MediumWeight:     1.5,
		WeakWeight:       0.75,
		Threshold:        3.0,
		InfraCap:         0.75,
		HubShare:         0.01,
		HubMinSessions:   100,
		HubCredentials:   20,
		HandoverWindow:   60 * time.Second,
		HandoverMaxStep:  5,
		HandoverMinRun:   3,
		InfraWindow:      7 * 24 * time.Hour,
		ProfileCosine:    0.9,
		ProfileMinEvents: 3,
		BeaconMinScore:   0.7,
		BeaconTolerance:  0.1,
		BlockSize:        256,
		ScoreWeights: map[string]float64{
			"foreign": 1, "hosting": 1, "enumeration": 1, "failure": 1,
			"scanner": 1, "regularity": 0.5, "duration": 0.5,
		},
		EnumObjects:    20,
		FullDuration:   30 * 24 * time.Hour,
		AttackScore:    0.35,
		SingletonScore: 0.6,
		MinSessions:    2,
		MaxBridgeWork:  4_000_000,
	}
}

// Params returns every weight, threshold and gap used, for the bundle.
func (o Options) Params() map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	p := map[string]string{
		"strong_weight":      f(o.StrongWeight),
		"medium_weight":      f(o.MediumWeight),
		"weak_weight":        f(o.WeakWeight),
		"threshold":          f(o.Threshold),
		"infra_cap":          f(o.InfraCap),
		"hub_share":          f(o.HubShare),
		"hub_min_sessions":   strconv.Itoa(o.HubMinSessions),
		"hub_credentials":    strconv.Itoa(o.HubCredentials),
		"handover_window":    o.HandoverWindow.String(),
		"handover_max_step":  strconv.FormatInt(o.HandoverMaxStep, 10),
		"handover_min_run":   strconv.Itoa(o.HandoverMinRun),
		"infra_window":       o.InfraWindow.String(),
		"profile_cosine":     f(o.ProfileCosine),
		"profile_min_events": strconv.Itoa(o.ProfileMinEvents),
		"beacon_min_score":   f(o.BeaconMinScore),
		"beacon_tolerance":   f(o.BeaconTolerance),
		"block_size":         strconv.Itoa(o.BlockSize),
		"home":               o.Home,
		"enum_objects":       f(o.EnumObjects),
		"full_duration":      o.FullDuration.String(),
		"attack_score":       f(o.AttackScore),
		"singleton_score":    f(o.SingletonScore),
		"min_sessions":       strconv.Itoa(o.MinSessions),
		"include_ordinary":   strconv.FormatBool(o.IncludeOrdinary),
		"max_bridge_work":    strconv.Itoa(o.MaxBridgeWork),
	}
	for _, k := range scoreComponents {
		p["score_weight."+k] = f(o.ScoreWeights[k])
	}
	return p
}

// scoreComponents lists the triage components in print order.
var scoreComponents = [...]string{"foreign", "hosting", "enumeration", "failure", "scanner", "regularity", "duration"}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Threshold <= 0 {
		o.Threshold = d.Threshold
	}
	if o.BlockSize <= 1 {
		o.BlockSize = d.BlockSize
	}
	if o.ScoreWeights == nil {
		o.ScoreWeights = d.ScoreWeights
	}
	if o.MinSessions <= 0 {
		o.MinSessions = d.MinSessions
	}
	if o.EnumObjects <= 0 {
		o.EnumObjects = d.EnumObjects
	}
	if o.FullDuration <= 0 {
		o.FullDuration = d.FullDuration
	}
	o.Home = strings.ToUpper(o.Home)
	return o
}
