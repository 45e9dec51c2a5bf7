package notify

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Keys of the notifications ConfigMap, in the form of Argo CD notifications.
const (
	// KeyServiceSlack holds SlackConfig as YAML.
	KeyServiceSlack = "service.slack"
	// KeyTemplatePrefix starts a template override: template.<trigger without "on-">.
	KeyTemplatePrefix = "template."
	// KeySubscriptions holds the default subscriptions: a YAML list of DefaultSubscription.
	KeySubscriptions = "subscriptions"
	// KeyContext holds a YAML map of strings that templates see as .Context.
	KeyContext = "context"
)

// SlackConfig is service.slack. A value that starts with '$' names a key of the
// notifications Secret ($slack-token), so that the ConfigMap holds no secret.
type SlackConfig struct {
	// Token is a bot token (xoxb-…) for the Web API: chat.postMessage, threads.
	Token string `json:"token,omitempty"`
	// WebhookURL is an incoming webhook, used when there is no token: no threads, and the
	// channel is the webhook's.
	WebhookURL string `json:"webhookURL,omitempty"`
	// APIURL overrides https://slack.com/api/ (a proxy, Slack GovSlack, a test server).
	APIURL   string `json:"apiURL,omitempty"`
	Username string `json:"username,omitempty"`
	// Icon is an emoji (":rocket:") or an image URL.
	Icon string `json:"icon,omitempty"`
}

// Config is the parsed notifications configuration.
type Config struct {
	Slack         SlackConfig
	Templates     map[Trigger]*Template
	Subscriptions []DefaultSubscription
	Context       map[string]string
}

// DestinationType is the value of the destination_type metric label.
func (c *Config) DestinationType() string {
	if c.Slack.Token == "" {
		return "slack-webhook"
	}
	return "slack"
}

// secrets are the values that must never appear in logs, events or errors.
func (c *Config) secrets() []string {
	var out []string
	for _, s := range []string{c.Slack.Token, c.Slack.WebhookURL} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ParseConfig reads the ConfigMap's data and the Secret's data. It fails with an error that
// names the key and the fix; the error never contains a secret value.
func ParseConfig(data map[string]string, secret map[string][]byte) (*Config, error) {
	cfg := &Config{Templates: map[Trigger]*Template{}}
	var errs []error

	if raw, ok := data[KeyServiceSlack]; !ok {
		errs = append(errs, fmt.Errorf("key %s is missing: set token: $slack-token (a bot token in the Secret) or webhookURL: $slack-webhook-url", KeyServiceSlack))
	} else if err := yaml.UnmarshalStrict([]byte(raw), &cfg.Slack); err != nil {
		errs = append(errs, fmt.Errorf("key %s: %w", KeyServiceSlack, err))
	} else {
		resolve := func(field string, v *string) {
			name, ok := strings.CutPrefix(*v, "$")
			if !ok {
				return
			}
			value, found := secret[name]
			if !found || len(strings.TrimSpace(string(value))) == 0 {
				errs = append(errs, fmt.Errorf("key %s: %s refers to key %q of the notifications Secret, which is missing or empty", KeyServiceSlack, field, name))
				*v = ""
				return
			}
			*v = strings.TrimSpace(string(value))
		}
		resolve("token", &cfg.Slack.Token)
		resolve("webhookURL", &cfg.Slack.WebhookURL)
		if cfg.Slack.Token == "" && cfg.Slack.WebhookURL == "" && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("key %s sets neither token nor webhookURL", KeyServiceSlack))
		}
		if cfg.Slack.APIURL != "" && !strings.HasSuffix(cfg.Slack.APIURL, "/") {
			cfg.Slack.APIURL += "/"
		}
	}

	sources := DefaultTemplates()
	names := map[string]Trigger{}
	for t := range sources {
		names[TemplateName(t)] = t
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		name, ok := strings.CutPrefix(key, KeyTemplatePrefix)
		if !ok {
			continue
		}
		t, known := names[name]
		if !known {
			known := make([]string, 0, len(names))
			for n := range names {
				known = append(known, KeyTemplatePrefix+n)
			}
			slices.Sort(known)
			errs = append(errs, fmt.Errorf("key %s: no trigger uses this template: the keys are %s", key, strings.Join(known, ", ")))
			continue
		}
		var src TemplateSource
		if err := yaml.UnmarshalStrict([]byte(data[key]), &src); err != nil {
			errs = append(errs, fmt.Errorf("key %s: %w", key, err))
			continue
		}
		sources[t] = src
	}
	for t, src := range sources {
		tmpl, err := ParseTemplate(TemplateName(t), src)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %s%s: %w", KeyTemplatePrefix, TemplateName(t), err))
			continue
		}
		cfg.Templates[t] = tmpl
	}

	if raw := data[KeySubscriptions]; strings.TrimSpace(raw) != "" {
		if err := yaml.UnmarshalStrict([]byte(raw), &cfg.Subscriptions); err != nil {
			errs = append(errs, fmt.Errorf("key %s: %w", KeySubscriptions, err))
		}
		for i := range cfg.Subscriptions {
			if err := cfg.Subscriptions[i].compile(); err != nil {
				errs = append(errs, fmt.Errorf("key %s, entry %d: %w", KeySubscriptions, i+1, err))
			}
		}
	}
	if raw := data[KeyContext]; strings.TrimSpace(raw) != "" {
		if err := yaml.UnmarshalStrict([]byte(raw), &cfg.Context); err != nil {
			errs = append(errs, fmt.Errorf("key %s: %w", KeyContext, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}
