package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"

	"github.com/slack-go/slack"
)

// Template renders one trigger's message: a plain-text message (the notification text and
// the fallback of clients that show no blocks) and, optionally, Block Kit blocks as a JSON
// array. Both are Go templates over Data.
type Template struct {
	Name      string
	message   *template.Template
	blocks    *template.Template
	Broadcast bool
}

// TemplateSource is a template as written in the ConfigMap (key template.<name>), in the
// form of Argo CD notifications.
type TemplateSource struct {
	Message string `json:"message"`
	Slack   struct {
		// Blocks is a Go template that renders a JSON array of Block Kit blocks.
		Blocks string `json:"blocks,omitempty"`
		// NotifyBroadcast also shows a thread reply in the channel.
		NotifyBroadcast bool `json:"notifyBroadcast,omitempty"`
	} `json:"slack,omitempty"`
}

// Message is a rendered notification.
type Message struct {
	Text      string
	Blocks    []slack.Block
	Broadcast bool
}

// templateFuncs are the functions templates may call, besides Go's builtins.
var templateFuncs = template.FuncMap{
	// json renders a value as JSON: {{ json .Event.Message }} is a quoted, escaped string.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join": func(sep string, s []string) string { return strings.Join(s, sep) },
	// default returns value, or def when value is empty.
	"default": func(def, value string) string {
		if value == "" {
			return def
		}
		return value
	},
	// escape escapes &, < and > for Slack's mrkdwn.
	"escape": slackEscape,
	"upper":  strings.ToUpper,
	"lower":  strings.ToLower,
	// trunc cuts s to at most n characters, with an ellipsis.
	"trunc": func(n int, s string) string {
		r := []rune(s)
		if len(r) <= n || n < 1 {
			return s
		}
		return string(r[:n-1]) + "…"
	},
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// ParseTemplate compiles a template source.
func ParseTemplate(name string, src TemplateSource) (*Template, error) {
	if strings.TrimSpace(src.Message) == "" {
		return nil, fmt.Errorf("template %s: message is empty", name)
	}
	t := &Template{Name: name, Broadcast: src.Slack.NotifyBroadcast}
	var err error
	if t.message, err = template.New(name).Funcs(templateFuncs).Option("missingkey=error").Parse(src.Message); err != nil {
		return nil, fmt.Errorf("template %s: message: %w", name, err)
	}
	if strings.TrimSpace(src.Slack.Blocks) != "" {
		if t.blocks, err = template.New(name + ".blocks").Funcs(templateFuncs).Option("missingkey=error").Parse(src.Slack.Blocks); err != nil {
			return nil, fmt.Errorf("template %s: slack.blocks: %w", name, err)
		}
	}
	return t, nil
}

// Render renders the message of data.
func (t *Template) Render(data Data) (Message, error) {
	var text bytes.Buffer
	if err := t.message.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("template %s: message: %w", t.Name, err)
	}
	msg := Message{Text: strings.TrimSpace(text.String()), Broadcast: t.Broadcast}
	if t.blocks == nil {
		return msg, nil
	}
	var raw bytes.Buffer
	if err := t.blocks.Execute(&raw, data); err != nil {
		return Message{}, fmt.Errorf("template %s: slack.blocks: %w", t.Name, err)
	}
	var blocks slack.Blocks
	if err := json.Unmarshal(raw.Bytes(), &blocks); err != nil {
		return Message{}, fmt.Errorf("template %s: slack.blocks is not a JSON array of Block Kit blocks: %w", t.Name, err)
	}
	msg.Blocks = blocks.BlockSet
	return msg, nil
}

// TemplateName is the name of a trigger's template: the trigger without "on-"
// (on-rollout-aborted uses template.rollout-aborted).
func TemplateName(t Trigger) string { return strings.TrimPrefix(string(t), "on-") }

// defaultTexts are the plain-text messages of the default templates.
var defaultTexts = map[Trigger]struct{ emoji, title, text string }{
	OnRolloutUpdated: {":arrows_counterclockwise:", "rolling out",
		`{{.Rollout.Namespace}}/{{.Rollout.Name}}: revision {{.Revision.Display}} is rolling out ({{join ", " .Revision.Images}}).`},
	OnRolloutPaused: {":double_vertical_bar:", "waiting for promotion",
		"{{.Rollout.Namespace}}/{{.Rollout.Name}}: revision {{.Revision.Display}} is paused, waiting for promotion. Promote: `{{.Commands.Promote}}` Abort: `{{.Commands.Abort}}`"},
	OnRolloutPromoted: {":large_blue_circle:", "promoted",
		`{{.Rollout.Namespace}}/{{.Rollout.Name}}: revision {{.Revision.Display}} is promoted: the active Service {{.Rollout.ActiveService}} selects it now.`},
	OnRolloutCompleted: {":white_check_mark:", "completed",
		`{{.Rollout.Namespace}}/{{.Rollout.Name}}: revision {{.Revision.Display}} is stable ({{join ", " .Revision.Images}}).`},
	OnRolloutAborted: {":x:", "aborted",
		`{{.Rollout.Namespace}}/{{.Rollout.Name}}: revision {{.Revision.Display}} was aborted{{with .Abort}} by {{.By}}: {{if .Metric}}metric {{.Metric}} = {{.Value}} (condition: {{.Condition}}; AnalysisRun {{.AnalysisRun}} {{.Phase}}; query: {{.Query}}){{else}}{{.Message}}{{end}}{{end}}. Production traffic is back on the stable revision {{.Rollout.StableRevision}}. Retry: ` + "`{{.Commands.Retry}}`"},
	OnRolloutDegraded: {":warning:", "degraded",
		`{{.Rollout.Namespace}}/{{.Rollout.Name}} is {{.Rollout.Phase}}: {{.Event.Message}}`},
	OnAnalysisRunFailed: {":red_circle:", "analysis failed",
		`{{.Rollout.Namespace}}/{{.Rollout.Name}}: analysis of revision {{.Revision.Display}} failed: {{.Event.Message}}`},
	OnAnalysisRunError: {":exclamation:", "analysis error",
		`{{.Rollout.Namespace}}/{{.Rollout.Name}}: analysis of revision {{.Revision.Display}} could not measure: {{.Event.Message}}`},
}

// defaultBlocks is the Block Kit layout of every default template; TITLE and EMOJI are
// replaced per trigger.
const defaultBlocks = `[
{"type":"section","text":{"type":"mrkdwn","text":{{ json (printf "EMOJI *%s* TITLE" (escape .Rollout.Application)) }}}},
{"type":"section","fields":[
  {"type":"mrkdwn","text":{{ json (printf "*Rollout*\n%s/%s" .Rollout.Namespace .Rollout.Name) }}},
  {"type":"mrkdwn","text":{{ json (printf "*Revision*\n%s" .Revision.Display) }}},
  {"type":"mrkdwn","text":{{ json (printf "*Phase*\n%s" (default "-" .Rollout.Phase)) }}},
  {"type":"mrkdwn","text":{{ json (printf "*Images*\n%s" (escape (default "-" (join ", " .Revision.Images)))) }}}
]},
{"type":"section","text":{"type":"mrkdwn","text":{{ json (escape (default .Event.Reason .Event.Message)) }}}}
{{- with .Abort }}{{ if .Metric }},
{"type":"section","fields":[
  {"type":"mrkdwn","text":{{ json (printf "*Metric*\n%s" .Metric) }}},
  {"type":"mrkdwn","text":{{ json (printf "*Value*\n%s" (escape .Value)) }}},
  {"type":"mrkdwn","text":{{ json (printf "*Condition*\n` + "`%s`" + `" (escape .Condition)) }}},
  {"type":"mrkdwn","text":{{ json (printf "*AnalysisRun*\n%s (%s)" .AnalysisRun .Phase) }}}
]},
{"type":"section","text":{"type":"mrkdwn","text":{{ json (printf "*Query*\n` + "```%s```" + `" (escape .Query)) }}}}
{{- end }}{{ end }}
{{- if eq (print .Trigger) "on-rollout-paused" }},
{"type":"section","text":{"type":"mrkdwn","text":{{ json (printf "Promote: ` + "`%s`" + `\nAbort: ` + "`%s`" + `" .Commands.Promote .Commands.Abort) }}}}
{{- end }}
{{- if eq (print .Trigger) "on-rollout-aborted" }},
{"type":"context","elements":[{"type":"mrkdwn","text":{{ json (printf "Retry: ` + "`%s`" + `" .Commands.Retry) }}}]}
{{- end }}
]`

// DefaultTemplates returns the built-in template source of every trigger.
func DefaultTemplates() map[Trigger]TemplateSource {
	out := map[Trigger]TemplateSource{}
	for t, d := range defaultTexts {
		var src TemplateSource
		src.Message = d.emoji + " " + d.text
		src.Slack.Blocks = strings.NewReplacer("EMOJI", d.emoji, "TITLE", d.title).Replace(defaultBlocks)
		out[t] = src
	}
	return out
}
