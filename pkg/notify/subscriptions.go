package notify

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// ServiceSlack is the only notification service: Slack, through the Web API with a bot
// token or through an incoming webhook, as the configuration says.
const ServiceSlack = "slack"

// Destination is where a notification goes: a service and a recipient (a Slack channel).
type Destination struct {
	Service   string
	Recipient string
}

// String is the Argo form "slack:channel", also used in the sent record.
func (d Destination) String() string { return d.Service + ":" + d.Recipient }

// Subscription subscribes a destination to a trigger; an empty trigger means every trigger.
type Subscription struct {
	Trigger     Trigger
	Destination Destination
}

// DefaultSubscription is one entry of the ConfigMap's "subscriptions" list: its recipients
// get its triggers (every trigger when empty) for every Rollout in its namespaces (every
// namespace when empty) that its label selector selects (every Rollout when empty).
type DefaultSubscription struct {
	Recipients []string  `json:"recipients"`
	Triggers   []Trigger `json:"triggers,omitempty"`
	Namespaces []string  `json:"namespaces,omitempty"`
	Selector   string    `json:"selector,omitempty"`

	destinations []Destination
	selector     labels.Selector
}

// channelPattern accepts Slack channel names (#deploys, team-alerts) and IDs (C0123ABCD).
var channelPattern = regexp.MustCompile(`^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)

// ParseRecipients parses a list of channels separated by ';' (Argo's form) or ','.
func ParseRecipients(service, value string) ([]Destination, error) {
	var out []Destination
	for _, part := range strings.FieldsFunc(value, func(r rune) bool { return r == ';' || r == ',' }) {
		ch := strings.TrimSpace(part)
		if ch == "" {
			continue
		}
		if !channelPattern.MatchString(ch) {
			return nil, fmt.Errorf("%q is not a Slack channel name or ID (letters, digits, '-', '_', '.'; an optional leading '#')", ch)
		}
		out = append(out, Destination{Service: service, Recipient: strings.TrimPrefix(ch, "#")})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no channel: list one or more channels separated by ';'")
	}
	return out, nil
}

// ParseAnnotations reads the subscriptions of a Rollout from its annotations:
// subscribe.<trigger>.slack or subscribe.slack (every trigger). It returns the valid ones
// and an error that names each annotation it could not parse and why.
func ParseAnnotations(annotations map[string]string) ([]Subscription, error) {
	var subs []Subscription
	var errs []error
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		if strings.HasPrefix(k, v1alpha1.SubscribeAnnotationPrefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		rest := strings.TrimPrefix(key, v1alpha1.SubscribeAnnotationPrefix)
		trigger, service := Trigger(""), rest
		if i := strings.LastIndex(rest, "."); i >= 0 {
			trigger, service = Trigger(rest[:i]), rest[i+1:]
		}
		if service != ServiceSlack {
			errs = append(errs, fmt.Errorf("annotation %s: unknown service %q: the form is %s<trigger>.slack", key, service, v1alpha1.SubscribeAnnotationPrefix))
			continue
		}
		if trigger != "" && !trigger.Known() {
			errs = append(errs, fmt.Errorf("annotation %s: unknown trigger %q: use one of %s", key, trigger, joinTriggers(Triggers())))
			continue
		}
		dests, err := ParseRecipients(service, annotations[key])
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w", key, err))
			continue
		}
		for _, d := range dests {
			subs = append(subs, Subscription{Trigger: trigger, Destination: d})
		}
	}
	return subs, errors.Join(errs...)
}

// compile checks a default subscription and prepares its selector and destinations.
func (s *DefaultSubscription) compile() error {
	if len(s.Recipients) == 0 {
		return errors.New("no recipients: list them as slack:<channel>")
	}
	for _, r := range s.Recipients {
		service, channel, ok := strings.Cut(r, ":")
		if !ok || service != ServiceSlack {
			return fmt.Errorf("recipient %q: the form is slack:<channel>", r)
		}
		dests, err := ParseRecipients(service, channel)
		if err != nil {
			return fmt.Errorf("recipient %q: %w", r, err)
		}
		s.destinations = append(s.destinations, dests...)
	}
	for _, t := range s.Triggers {
		if !t.Known() {
			return fmt.Errorf("unknown trigger %q: use one of %s", t, joinTriggers(Triggers()))
		}
	}
	sel, err := labels.Parse(s.Selector)
	if err != nil {
		return fmt.Errorf("selector %q: %w", s.Selector, err)
	}
	s.selector = sel
	return nil
}

func (s *DefaultSubscription) matches(trigger Trigger, namespace string, rolloutLabels map[string]string) bool {
	if len(s.Triggers) > 0 && !slices.Contains(s.Triggers, trigger) {
		return false
	}
	if len(s.Namespaces) > 0 && !slices.Contains(s.Namespaces, namespace) {
		return false
	}
	return s.selector == nil || s.selector.Matches(labels.Set(rolloutLabels))
}

// Destinations returns, deduplicated and sorted, where a trigger of the Rollout goes: its
// annotation subscriptions and the matching default subscriptions.
func Destinations(trigger Trigger, namespace string, rolloutLabels map[string]string, subs []Subscription, defaults []DefaultSubscription) []Destination {
	seen := map[Destination]bool{}
	var out []Destination
	add := func(d Destination) {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	for _, s := range subs {
		if s.Trigger == "" || s.Trigger == trigger {
			add(s.Destination)
		}
	}
	for i := range defaults {
		if defaults[i].matches(trigger, namespace, rolloutLabels) {
			for _, d := range defaults[i].destinations {
				add(d)
			}
		}
	}
	slices.SortFunc(out, func(a, b Destination) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func joinTriggers(ts []Trigger) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
