package notify

import (
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestExampleConfig parses the example of config/notifications, so that it stays valid.
func TestExampleConfig(t *testing.T) {
	raw, err := os.ReadFile("../../config/notifications/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(raw, &cm); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(cm.Data, map[string][]byte{"slack-token": []byte("xoxb-example")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.Token != "xoxb-example" || cfg.Slack.Username != "bluegreen" || cfg.Context["dashboard"] == "" || len(cfg.Subscriptions) != 2 {
		t.Errorf("config = %+v", cfg)
	}
	msg, err := cfg.Templates[OnRolloutCompleted].Render(testData(OnRolloutCompleted))
	if err != nil {
		t.Fatal(err)
	}
	if want := ":white_check_mark: web 3 (5d8f7c9b) is live in shop (app=registry/web:2.0). Dashboard: https://grafana.example.com/d/rollouts"; msg.Text != want {
		t.Errorf("overridden template:\n got %q\nwant %q", msg.Text, want)
	}
	if msg.Blocks != nil {
		t.Errorf("a template without slack.blocks renders no blocks, got %v", msg.Blocks)
	}
}

func TestParseConfigErrors(t *testing.T) {
	const secretToken = "xoxb-very-secret"
	secret := map[string][]byte{"slack-token": []byte(secretToken), "empty": nil}
	cases := []struct {
		name string
		data map[string]string
		want string
	}{
		{"no service", map[string]string{}, "key service.slack is missing: set token: $slack-token"},
		{"missing secret key", map[string]string{KeyServiceSlack: "token: $other"}, `token refers to key "other" of the notifications Secret, which is missing or empty`},
		{"empty secret key", map[string]string{KeyServiceSlack: "webhookURL: $empty"}, `webhookURL refers to key "empty"`},
		{"neither", map[string]string{KeyServiceSlack: "username: x"}, "sets neither token nor webhookURL"},
		{"unknown field", map[string]string{KeyServiceSlack: "token: $slack-token\nchanel: x"}, `unknown field "chanel"`},
		{"unknown template", map[string]string{KeyServiceSlack: "token: $slack-token", "template.rollout-exploded": "message: x"},
			"key template.rollout-exploded: no trigger uses this template: the keys are template.analysis-run-error,"},
		{"bad template", map[string]string{KeyServiceSlack: "token: $slack-token", "template.rollout-paused": "message: '{{ .Rollout.Nme }}'"},
			"key template.rollout-paused"},
		{"broken template", map[string]string{KeyServiceSlack: "token: $slack-token", "template.rollout-paused": "message: '{{ if }}'"},
			"key template.rollout-paused: template rollout-paused: message:"},
	}
	for _, c := range cases {
		_, err := ParseConfig(c.data, secret)
		if c.name == "bad template" {
			// A field that does not exist is found when rendering.
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), secretToken) {
			t.Errorf("%s: the error shows the token: %v", c.name, err)
		}
	}
}

func TestParseConfigWebhook(t *testing.T) {
	cfg, err := ParseConfig(map[string]string{KeyServiceSlack: "webhookURL: $hook\napiURL: http://localhost:1/api"},
		map[string][]byte{"hook": []byte("https://hooks.example.com/T/B/x\n")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.WebhookURL != "https://hooks.example.com/T/B/x" || cfg.Slack.APIURL != "http://localhost:1/api/" || cfg.DestinationType() != "slack-webhook" {
		t.Errorf("slack config = %+v, type %s", cfg.Slack, cfg.DestinationType())
	}
}
