package notify

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sub = "notifications.bluegreen.dev/subscribe."

func TestParseAnnotations(t *testing.T) {
	subs, err := ParseAnnotations(map[string]string{
		sub + "on-rollout-aborted.slack":   "team-alerts; #deploys",
		sub + "slack":                      "all-events",
		"notifications.bluegreen.dev/sent": "abc on-rollout-paused/slack:x",
		"other":                            "x",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Subscription{
		{Trigger: OnRolloutAborted, Destination: Destination{ServiceSlack, "team-alerts"}},
		{Trigger: OnRolloutAborted, Destination: Destination{ServiceSlack, "deploys"}},
		{Trigger: "", Destination: Destination{ServiceSlack, "all-events"}},
	}
	if diff := cmp.Diff(want, subs); diff != "" {
		t.Errorf("subscriptions (-want +got):\n%s", diff)
	}
	got := Destinations(OnRolloutAborted, "ns", nil, subs, nil)
	if diff := cmp.Diff([]Destination{{ServiceSlack, "all-events"}, {ServiceSlack, "deploys"}, {ServiceSlack, "team-alerts"}}, got); diff != "" {
		t.Errorf("destinations of on-rollout-aborted (-want +got):\n%s", diff)
	}
	if got := Destinations(OnRolloutPaused, "ns", nil, subs, nil); len(got) != 1 || got[0].Recipient != "all-events" {
		t.Errorf("destinations of on-rollout-paused = %v, want all-events", got)
	}
}

func TestParseAnnotationsErrors(t *testing.T) {
	cases := []struct {
		key, value, want string
	}{
		{sub + "on-rollout-exploded.slack", "a", `unknown trigger "on-rollout-exploded": use one of on-analysis-run-error,`},
		{sub + "on-rollout-aborted.email", "a", `unknown service "email"`},
		{sub + "on-rollout-aborted.slack", " ; ", "no channel"},
		{sub + "on-rollout-aborted.slack", "my channel", `"my channel" is not a Slack channel name or ID`},
	}
	for _, c := range cases {
		subs, err := ParseAnnotations(map[string]string{c.key: c.value, sub + "slack": "ok"})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: %q: error %v, want one naming the annotation and containing %q", c.key, c.value, err, c.want)
		}
		if len(subs) != 1 {
			t.Errorf("%s: the valid subscription is kept, got %v", c.key, subs)
		}
	}
}

func TestDefaultSubscriptions(t *testing.T) {
	cfg, err := ParseConfig(map[string]string{
		KeyServiceSlack: "token: $slack-token",
		KeySubscriptions: `
- recipients: [slack:payments-deploys]
  namespaces: [payments]
- recipients: ["slack:incidents"]
  triggers: [on-rollout-aborted]
  selector: tier=critical
`}, map[string][]byte{"slack-token": []byte("xoxb-1")})
	if err != nil {
		t.Fatal(err)
	}
	critical := map[string]string{"tier": "critical"}
	cases := []struct {
		trigger   Trigger
		namespace string
		labels    map[string]string
		want      []string
	}{
		{OnRolloutPaused, "payments", nil, []string{"slack:payments-deploys"}},
		{OnRolloutPaused, "shop", critical, nil},
		{OnRolloutAborted, "shop", critical, []string{"slack:incidents"}},
		{OnRolloutAborted, "payments", critical, []string{"slack:incidents", "slack:payments-deploys"}},
		{OnRolloutAborted, "shop", map[string]string{"tier": "low"}, nil},
	}
	for _, c := range cases {
		var got []string
		for _, d := range Destinations(c.trigger, c.namespace, c.labels, nil, cfg.Subscriptions) {
			got = append(got, d.String())
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s in %s %v (-want +got):\n%s", c.trigger, c.namespace, c.labels, diff)
		}
	}
}

func TestDefaultSubscriptionsErrors(t *testing.T) {
	for subs, want := range map[string]string{
		"- recipients: [deploys]":                            `recipient "deploys": the form is slack:<channel>`,
		"- recipients: [slack:a]\n  triggers: [on-whatever]": `unknown trigger "on-whatever"`,
		"- recipients: [slack:a]\n  selector: 'a in (b'":     `selector "a in (b"`,
		"- triggers: [on-rollout-paused]":                    "no recipients",
		"- recipients: [slack:a]\n  channel: b":              `unknown field "channel"`,
	} {
		_, err := ParseConfig(map[string]string{KeyServiceSlack: "token: xoxb-1", KeySubscriptions: subs}, nil)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "key subscriptions") {
			t.Errorf("subscriptions %q: error %v, want one containing %q", subs, err, want)
		}
	}
}
